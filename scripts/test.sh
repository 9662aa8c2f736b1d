#!/usr/bin/env bash
# Runs every test against a throwaway PostgreSQL cluster (removed afterwards)
# and a real headless Chromium. Called by `make test` after scripts/deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/throwaway-pg.sh 55500
export RADPASS_TEST_CHROMIUM=${RADPASS_TEST_CHROMIUM:-$(command -v chromium || true)}
# Browser tests are never skipped here: no browser is a failure, not a skip.
if [ -z "$RADPASS_TEST_CHROMIUM" ] || [ ! -x "$RADPASS_TEST_CHROMIUM" ]; then
  echo "no Chromium found (scripts/deps.sh test installs it); browser tests cannot run" >&2
  exit 1
fi
export RADPASS_TEST_MAILPIT=${RADPASS_TEST_MAILPIT:-$PWD/bin/mailpit}
export RADPASS_TEST_VERSITYGW=${RADPASS_TEST_VERSITYGW:-$PWD/bin/versitygw}
export CI=${CI:-true}
echo "test PostgreSQL on port $port; browser $RADPASS_TEST_CHROMIUM"

# Each phase prints the seconds since the script started (SECONDS).
phase() { echo "== $* (at ${SECONDS} s)"; }
phase gofmt
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi
phase gofpdf patches
bash scripts/gofpdf-patches.sh check
phase go test -race
# set -e would end the script at a failing pipeline before the summary.
set +e
# Tests named ...NoRace are single-goroutine computations (image and DICOM
# decoding on large samples, the 40-patient demo whose parallel import a
# smaller test checks under -race): the race detector sees nothing in them
# and makes them 5-10 times slower, so they run without it. They and the
# short fuzz runs (counts, never durations: nothing in them can time out)
# run at the lowest CPU priority beside the race pass, after go vet, filling
# the cores whenever its tests wait and in its tail, when fewer packages are
# left.
norace=$(git grep -l 'func Test[A-Za-z0-9_]*NoRace(' -- '*_test.go' | xargs -n1 dirname | sort -u | sed 's#^#./#')
(
  # github.com/phpdave11/gofpdf is third_party/gofpdf (a module of its own, replaced in go.mod).
  nice -n 19 go vet ./... github.com/phpdave11/gofpdf > "$tmp/vet.log" 2>&1
  echo $? > "$tmp/vet.rc"
  nice -n 19 go test -count=1 -vet=off -ldflags=-w -timeout 12m -run 'NoRace$' $norace > "$tmp/norace.log" 2>&1
  echo $? > "$tmp/norace.rc"
  if [ -x scripts/fuzz.sh ]; then nice -n 19 scripts/fuzz.sh > "$tmp/fuzz.log" 2>&1; echo $? > "$tmp/fuzz.rc"; fi
) &
beside=$!
# -vet=off: `go vet ./...` (beside) runs every analyzer go test would run
# again on each test package.
# -p 4: two test binaries per core keep both cores busy while some tests
# wait on PostgreSQL or Chromium (vmstat: idle 0 %); six at once is no faster.
# -ldflags=-w: test binaries without DWARF link a third faster (5.3 s
# against 3.5 s for patient's race binary); stack traces keep their lines.
# The longest packages first (go test starts them in this order), so that
# none of them starts last and holds the run up alone.
longest="./patient ./staff/... ./shared/dicomzip ./shared/seed ./shared/server ./cmd/radpass ./shared/auth ./shared/buckets ./shared/dicom/..."
go test -race -count=1 -vet=off -ldflags=-w -p 4 -timeout 12m -skip 'NoRace$|System$|^TestBrowser' $longest ./... github.com/phpdave11/gofpdf 2>&1 | tee "$tmp/test.log"
status=${PIPESTATUS[0]}
# Tests named TestBrowser... drive a real Chromium through whole pages. They
# run in their own pass without the race detector: most of their time is
# Chromium's and the waits for it, which -race only slows down, while the
# handlers they click through run under -race in the HTTP tests of the same
# packages (parallel requests included), where the detector can see a race.
browser=$(git grep -l 'func TestBrowser[A-Za-z0-9_]*(' -- '*_test.go' | xargs -n1 dirname | sort -u | sed 's#^#./#')
phase "go test (the browser tests, without the race detector)"
go test -count=1 -vet=off -ldflags=-w -timeout 12m -run '^TestBrowser' $browser 2>&1 | tee "$tmp/browser.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
phase "go vet, the NoRace tests and the fuzz runs (started beside the race pass)"
wait "$beside"
echo "== go vet"
cat "$tmp/vet.log"
[ "$(cat "$tmp/vet.rc")" = 0 ] || status=1
echo "== the NoRace tests"
cat "$tmp/norace.log"
[ "$(cat "$tmp/norace.rc")" = 0 ] || status=1
if [ -x scripts/fuzz.sh ]; then
  echo "== fuzz (short)"
  cat "$tmp/fuzz.log"
  [ "$(cat "$tmp/fuzz.rc")" = 0 ] || status=1
fi
# Tests named ...System drive other processes (radpass serve binaries behind
# nginx, a PostgreSQL replica, Orthanc, versitygw): what they test runs
# outside the test binary, so they need no race detector in it; they run
# last, alone, because they measure behaviour under load (restarts, failover).
system=$(git grep -l 'func Test[A-Za-z0-9_]*System(' -- '*_test.go' | xargs -n1 dirname | sort -u | sed 's#^#./#')
: > "$tmp/system.log"
if [ -n "$system" ]; then
  phase "go test (the System tests)"
  go test -count=1 -vet=off -ldflags=-w -timeout 12m -run 'System$' $system 2>&1 | tee "$tmp/system.log"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
fi
set -e
passed=$(grep -c '^ok ' "$tmp/test.log" || true)
failed=$(grep -cE '^FAIL\s' "$tmp/test.log" || true)
echo "packages: $passed passed, $failed failed (race pass); NoRace pass: $(grep -c '^ok ' "$tmp/norace.log" || true) passed, $(grep -cE '^FAIL\s' "$tmp/norace.log" || true) failed; browser pass: $(grep -c '^ok ' "$tmp/browser.log" || true) passed, $(grep -cE '^FAIL\s' "$tmp/browser.log" || true) failed; System pass: $(grep -c '^ok ' "$tmp/system.log" || true) passed, $(grep -cE '^FAIL\s' "$tmp/system.log" || true) failed"
phase done
exit "$status"
