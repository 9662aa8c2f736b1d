#!/usr/bin/env bash
# Evidence for the patient sign-in tail (docs/performance.md): runs
# BenchmarkSignInLoad once with CPU, block and mutex profiles and a GC trace,
# samples pg_stat_activity wait events every 200 ms, and prints the sign-in's
# statements from pg_stat_statements. Needs RADPASS_TEST_DATABASE_URL pointing
# at a cluster started with shared_preload_libraries=pg_stat_statements (the
# script says so and goes on without it); output goes to $1 (default
# /tmp/signin-profile).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/signin-profile}
mkdir -p "$out"
: "${RADPASS_TEST_DATABASE_URL:?set RADPASS_TEST_DATABASE_URL}"
db=$RADPASS_TEST_DATABASE_URL
pss=0
if psql "$db" -Atc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()" >/dev/null 2>&1; then
  pss=1
else
  echo "pg_stat_statements not loaded: no statement figures" >&2
fi
uptime | sed 's/^/load before: /'
go test -c -o "$out/patient.test" ./patient
( while sleep 0.2; do
    psql "$db" -AtF' ' -c "SELECT coalesce(wait_event_type,'CPU'), coalesce(wait_event,'-'), state FROM pg_stat_activity WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()" 2>/dev/null
  done ) > "$out/waits.txt" &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT
GODEBUG=gctrace=1 "$out/patient.test" -test.run '^$' -test.bench 'BenchmarkSignInLoad$' -test.benchtime 1x \
  -test.cpuprofile "$out/cpu.pprof" -test.blockprofile "$out/block.pprof" -test.mutexprofile "$out/mutex.pprof" \
  -test.benchmem > "$out/bench.txt" 2> "$out/gctrace.txt" || { cat "$out/bench.txt"; exit 1; }
kill $sampler 2>/dev/null || true
uptime | sed 's/^/load after:  /'
grep -E 'sign-in|plain|ratio|counters|ns/op' "$out/bench.txt"
echo "== GC: $(grep -c '^gc ' "$out/gctrace.txt") collections; slowest pauses (ms, wall clock):"
grep '^gc ' "$out/gctrace.txt" | awk '{split($5,a,"+"); print a[1]+a[3]}' | sort -n | tail -3 | tr '\n' ' '; echo
echo "== wait events sampled in pg_stat_activity (count type event state):"
sort "$out/waits.txt" | uniq -c | sort -rn | head -12
if [ $pss = 1 ]; then
  echo "== pg_stat_statements, top statements by total time:"
  psql "$db" -c "SELECT calls, round(total_exec_time::numeric,1) AS total_ms, round(mean_exec_time::numeric,3) AS mean_ms, round(max_exec_time::numeric,1) AS max_ms, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15"
fi
echo "== top CPU:"
go tool pprof -top -nodecount 25 "$out/patient.test" "$out/cpu.pprof" 2>/dev/null | head -32
echo "== top blocking:"
go tool pprof -top -nodecount 15 "$out/patient.test" "$out/block.pprof" 2>/dev/null | head -22
