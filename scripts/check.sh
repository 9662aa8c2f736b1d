#!/usr/bin/env bash
# The quick tier for the edit-test loop (make check): gofmt, go vet, and the
# tests that need no external service. `go test -short` skips every test
# that needs PostgreSQL, Chromium, Mailpit or an external DICOM/PDF tool
# (the kits under shared/testkit skip under -short; without -short they fail
# when the service is missing). No -race here: make test runs everything
# with the race detector. Target: under 60 s with a warm build cache.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi
echo "== go vet"
go vet ./...
echo "== go test -short"
status=0
go test -short -count=1 -vet=off ./... || status=$?
echo "make check: $(( $(date +%s) - start )) s"
exit "$status"
