# RadPass. Two commands do all the set-up on a fresh Debian machine:
#   make run    the portal on http://localhost:8080 with a project-local PostgreSQL and demo data
#   make test   every test (real PostgreSQL, real headless Chromium)
#   make check  gofmt, vet and the tests that need no external service (< 60 s)
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: run test check fuzz bench bench-quick build deps-run deps-test clean

build: deps-run
	go build -o bin/radpass ./cmd/radpass

run: build
	RADPASS_DEV=$${RADPASS_DEV:-1} ./bin/radpass serve

test: deps-test
	bash scripts/test.sh

# The edit-test loop: no PostgreSQL, Chromium, Mailpit or DICOM tools needed.
check:
	bash scripts/check.sh

# Longer fuzzing of the DICOM parser and pixel decoders (make test runs a
# short exploration): FUZZTIME per target, 5 minutes unless set.
fuzz: deps-test
	FUZZTIME=$${FUZZTIME:-5m} scripts/fuzz.sh

bench: deps-test
	bash scripts/bench.sh

# The headline figures, median of 3 runs with the load average, in < 5 minutes.
bench-quick: deps-test
	bash scripts/bench_quick.sh

deps-run:
	@bash scripts/deps.sh run

deps-test:
	@bash scripts/deps.sh test

clean:
	rm -rf bin static/vendor
