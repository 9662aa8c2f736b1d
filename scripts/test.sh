#!/usr/bin/env bash
# Runs every test against a throwaway PostgreSQL cluster (removed afterwards)
# and a real headless Chromium. Called by `make test` after scripts/deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# -trimpath: compiled packages do not depend on the checkout's folder, so a
# fresh clone (or another worktree) on a machine that has built RadPass
# before reuses Go's build cache instead of compiling every package of ours
# twice again (race and not: 110 CPU-s of the race variant alone). The radpass
# binaries tests build for their subprocesses inherit it.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath"
# What the run writes and throws away (the PostgreSQL cluster with the few
# hundred databases the tests leave, Go's build folders, the tests' own
# temporary files) goes to memory when /dev/shm has room for it: on this
# machine's disk (ext4 mounted with discard) removing the cluster alone took
# 19 s, and every write and delete costs the kernel CPU the tests need.
shm_tmp=
if [ -z "${TMPDIR:-}" ] && [ "$(stat -f -c %T /dev/shm 2> /dev/null)" = tmpfs ] &&
  [ "$(df --output=avail -k /dev/shm | tail -1)" -gt $((10 * 1024 * 1024)) ]; then
  shm_tmp=$(mktemp -d /dev/shm/radpass-test.XXXXXX)
  export TMPDIR=$shm_tmp
fi
. scripts/throwaway-pg.sh 55500
chromium_pid=
stop_all() {
  if [ -n "$chromium_pid" ]; then kill "$chromium_pid" 2> /dev/null || true; wait "$chromium_pid" 2> /dev/null || true; fi
  cleanup
  [ -z "$shm_tmp" ] || rm -rf "$shm_tmp"
  echo "== cleaned up (at ${SECONDS} s)"
}
trap stop_all EXIT
export RADPASS_TEST_CHROMIUM=${RADPASS_TEST_CHROMIUM:-$(command -v chromium || true)}
# Browser tests are never skipped here: no browser is a failure, not a skip.
if [ -z "$RADPASS_TEST_CHROMIUM" ] || [ ! -x "$RADPASS_TEST_CHROMIUM" ]; then
  echo "no Chromium found (scripts/deps.sh test installs it); browser tests cannot run" >&2
  exit 1
fi
# bin/radpass, built by throwaway-pg.sh with these flags, is the binary the
# tests that run the real program use (testtool.RadpassEnv): not one link more.
export RADPASS_TEST_RADPASS=$PWD/bin/radpass
# One headless Chromium for the browser tests of every package (about 3 CPU-s
# for each one a package would start), with the switches testbrowser uses
# (its chromium.flags); each test still gets a fresh browser context.
mapfile -t chromium_flags < <(grep -v '^$' shared/testkit/testbrowser/chromium.flags | sed 's/^/--/')
"$RADPASS_TEST_CHROMIUM" "${chromium_flags[@]}" --user-data-dir="$tmp/chromium" --remote-debugging-address=127.0.0.1 \
  --remote-debugging-port=0 about:blank 2> "$tmp/chromium.log" &
chromium_pid=$!
for _ in $(seq 300); do
  RADPASS_TEST_CHROMIUM_URL=$(grep -o 'ws://[^ ]*/devtools/browser/[^ ]*' "$tmp/chromium.log" | head -1 || true)
  [ -n "$RADPASS_TEST_CHROMIUM_URL" ] && break
  kill -0 "$chromium_pid" 2> /dev/null || break
  sleep 0.1
done
if [ -z "$RADPASS_TEST_CHROMIUM_URL" ]; then
  echo "Chromium did not start:" >&2; cat "$tmp/chromium.log" >&2; exit 1
fi
export RADPASS_TEST_CHROMIUM_URL
export RADPASS_TEST_MAILPIT=${RADPASS_TEST_MAILPIT:-$PWD/bin/mailpit}
export RADPASS_TEST_VERSITYGW=${RADPASS_TEST_VERSITYGW:-$PWD/bin/versitygw}
export CI=${CI:-true}
# The cluster is removed with everything in it when the script ends: tests
# leave their databases (see testdb.KeepEnvVar) and autovacuum, which would
# visit each of those few hundred databases in turn, stays off.
export RADPASS_TEST_KEEP_DATABASES=1
psql "$RADPASS_TEST_DATABASE_URL" -qAt -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" > /dev/null
echo "test PostgreSQL on port $port; browser $RADPASS_TEST_CHROMIUM"

# Each phase prints the seconds since the script started (SECONDS).
phase() { echo "== $* (at ${SECONDS} s)"; }
phase gofmt
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi
phase gofpdf patches
bash scripts/gofpdf-patches.sh check
# set -e would end the script at a failing pass before the summary.
set +e
# Two passes run side by side, at the same priority, so that whenever one
# waits (on PostgreSQL, Chromium, nginx, a restarting instance) the other
# has the cores: the race pass, and one pass without the race detector for
# the tests it cannot see into or that run other processes:
# - ...NoRace: single-goroutine computations (image and DICOM decoding on
#   large samples, the 40-patient demo whose parallel import a smaller test
#   checks under -race): the detector sees nothing in them and makes them
#   5-10 times slower;
# - TestBrowser...: most of their time is Chromium's; the handlers they
#   click through run under -race in the HTTP tests of the same packages;
# - ...System: radpass serve binaries behind nginx, a PostgreSQL replica,
#   Orthanc, versitygw: what they test runs outside the test binary.
# go vet runs beside both; the short fuzz runs (counts, never durations:
# nothing in them can time out) follow the non-race pass.
list() { git grep -l "func $1" -- '*_test.go' | xargs -n1 dirname | sort -u | sed 's#^#./#'; }
others=$( (list 'Test[A-Za-z0-9_]*NoRace('; list 'TestBrowser[A-Za-z0-9_]*('; list 'Test[A-Za-z0-9_]*System(') | sort -u)
phase "go test -race, and beside it the NoRace, browser and System tests, go vet and fuzz"
# -vet=off: `go vet ./...` runs every analyzer go test would run again.
# -ldflags=-w: test binaries without DWARF link a third faster (5.3 s
# against 3.5 s for patient's race binary); stack traces keep their lines.
(
  go test -count=1 -vet=off -ldflags=-w -p 2 -timeout 12m -run 'NoRace$|^TestBrowser|System$' $others > "$tmp/others.log" 2>&1
  echo $? > "$tmp/others.rc"; echo "$SECONDS" > "$tmp/others.end"
  # The fuzz runs (five builds and runs one after the other) follow this
  # pass, which ends before the race pass: started at once, they were
  # starved beside both passes and ended 44 s after the race pass.
  if [ -x scripts/fuzz.sh ]; then scripts/fuzz.sh > "$tmp/fuzz.log" 2>&1; echo $? > "$tmp/fuzz.rc"; fi
  echo "$SECONDS" > "$tmp/fuzz.end"
) &
others_pid=$!
(
  # github.com/phpdave11/gofpdf is third_party/gofpdf (a module of its own, replaced in go.mod).
  go vet ./... github.com/phpdave11/gofpdf > "$tmp/vet.log" 2>&1
  echo $? > "$tmp/vet.rc"
  echo "$SECONDS" > "$tmp/vet.end"
) &
vet_pid=$!
# -p 3: with the other pass beside it, both cores stay busy while tests
# wait. The longest packages first (go test starts them in this order), so
# that none of them starts last and holds the run up alone.
longest="./patient ./staff/... ./shared/dicomzip ./shared/seed ./shared/server ./cmd/radpass ./shared/auth ./shared/buckets ./shared/dicom/..."
go test -race -count=1 -vet=off -ldflags=-w -p 3 -timeout 12m -skip 'NoRace$|System$|^TestBrowser' $longest ./... github.com/phpdave11/gofpdf 2>&1 | tee "$tmp/test.log"
status=${PIPESTATUS[0]}
phase "race pass done; waiting for the NoRace, browser and System tests, go vet and fuzz"
wait "$others_pid" "$vet_pid"
echo "== the NoRace, browser and System tests (no race detector; ended at $(cat "$tmp/others.end") s)"
cat "$tmp/others.log"
[ "$(cat "$tmp/others.rc")" = 0 ] || status=1
echo "== go vet (ended at $(cat "$tmp/vet.end") s)"
cat "$tmp/vet.log"
[ "$(cat "$tmp/vet.rc")" = 0 ] || status=1
if [ -x scripts/fuzz.sh ]; then
  echo "== fuzz (short; ended at $(cat "$tmp/fuzz.end") s)"
  cat "$tmp/fuzz.log"
  [ "$(cat "$tmp/fuzz.rc")" = 0 ] || status=1
fi
set -e
passed=$(grep -c '^ok ' "$tmp/test.log" || true)
failed=$(grep -cE '^FAIL\s' "$tmp/test.log" || true)
echo "packages: race pass $passed passed, $failed failed; NoRace, browser and System pass $(grep -c '^ok ' "$tmp/others.log" || true) passed, $(grep -cE '^FAIL\s' "$tmp/others.log" || true) failed"
echo "test PostgreSQL: $(psql "$RADPASS_TEST_DATABASE_URL" -qAt -F ' databases, ' -c "SELECT count(*), pg_size_pretty(sum(pg_database_size(oid))) FROM pg_database") in ${TMPDIR:-/tmp}"
phase done
exit "$status"
