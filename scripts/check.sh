#!/usr/bin/env bash
# The quick tier for the edit-test loop (make check): gofmt, go vet, and the
# tests that need no external service. `go test -short` skips every test
# that needs PostgreSQL, Chromium, Mailpit or an external DICOM/PDF tool
# (the kits under shared/testkit skip under -short; without -short they fail
# when the service is missing). No -race here: make test runs everything
# with the race detector. Go's test cache keeps the results of packages an
# edit did not touch: under 60 s after an edit, seconds when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
# -trimpath, as in make test: a new clone reuses the build cache.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath"
start=$(date +%s)
echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi
echo "== go vet"
go vet ./...
echo "== go test -short"
status=0
go test -short -vet=off -ldflags=-w ./... || status=$?
echo "make check: $(( $(date +%s) - start )) s"
exit "$status"
