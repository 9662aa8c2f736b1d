#!/usr/bin/env bash
# make bench: Go benchmarks (testing.B) and the load generators, against a
# throwaway PostgreSQL like make test. Figures go to stdout;
# docs/performance.md keeps them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/throwaway-pg.sh 55700
export RADPASS_BENCH_TMP=$tmp
echo "== go benchmarks"
go test -run '^$' -bench . -benchmem -count 1 -timeout 30m ./...
for s in scripts/bench-*.sh; do
  [ -x "$s" ] || continue
  echo "== $s"
  "$s"
done

# ---- stress: request bodies ---------------------------------------------------
# Peak RSS of a real `radpass serve` under 20 parallel 60 MiB anonymous POSTs
# to /dicomweb/studies (target < 400 MiB) and 20 authenticated STOW-RS pushes.
echo "== stress: request bodies"
scripts/stress-bodies.sh
# ---- end stress: request bodies ----------------------------------------------
echo "== stress"
# Peak RSS of a real `radpass serve` under bursts of anonymous requests
# (parallel sign-ins with random account names); each program prints its figures and its target.
go run ./scripts/stress-signin -bin bin/radpass -db "$RADPASS_TEST_DATABASE_URL" -n 80
