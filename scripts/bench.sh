#!/usr/bin/env bash
# make bench: Go benchmarks (testing.B) and the load generators, against a
# throwaway PostgreSQL like make test. Figures go to stdout;
# docs/performance.md keeps them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/throwaway-pg.sh 55700
export RADPASS_BENCH_TMP=$tmp
log=$tmp/bench.log
{
echo "make bench $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GB, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== go benchmarks"
# The study list and scale-out benchmarks run at full size in their own
# scripts below (bench-studylist.sh, bench-scaleout.sh), not twice.
go test -run '^$' -bench . -skip '^(BenchmarkSearch|BenchmarkStudyListHTTP|BenchmarkScaleout)$' -benchmem -count 1 -timeout 30m ./...
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
} 2>&1 | tee "$log"
# The summary: one table from every benchmark's figures (BENCHROW lines and
# the Go benchmarks named in bench_table.sh); docs/performance.md keeps the
# latest full run.
echo
echo "== summary (load now $(cut -d' ' -f1-3 /proc/loadavg))"
scripts/bench_table.sh "$log"
