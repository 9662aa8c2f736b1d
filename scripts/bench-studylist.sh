#!/usr/bin/env bash
# Study list search at 10,000,000 studies (called by scripts/bench.sh, which
# exports RADPASS_TEST_DATABASE_URL). Each benchmark creates its own database
# from the migrated template and bulk-loads the studies with COPY (the code of
# `radpass seed --studies N`; 10 million take about 15-25 minutes on 2 cores,
# see docs/performance.md):
#   BenchmarkSearch         studies.Search per case: p50/p95/p99, and the p95
#                           of the same statements run bare through
#                           database/sql (all those Search runs, in order)
#   BenchmarkStudyListHTTP  the whole GET /staff/ on the real server (page and
#                           htmx fragment), measured by a loopback client, at
#                           RADPASS_BENCH_HTTP_STUDIES (default 1,000,000: it
#                           loads its own database)
# RADPASS_BENCH_STUDIES overrides the size; RADPASS_BENCH_STUDYLIST_DSN points
# BenchmarkSearch at an already seeded database instead (`radpass seed
# --studies 10000000`). Each case prints a BENCHROW line for the summary
# table: pass is p95 < 20 ms and at most 2x the bare SQL.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${RADPASS_TEST_DATABASE_URL:?run through scripts/bench.sh (make bench), which starts PostgreSQL}"
studies=${RADPASS_BENCH_STUDIES:-10000000}
echo "study list, $studies studies (target: search p95 < 20 ms, at most 2x the bare SQL)"
for spec in "BenchmarkSearch ./shared/studies/ $studies" "BenchmarkStudyListHTTP ./staff/studylist/ ${RADPASS_BENCH_HTTP_STUDIES:-1000000}"; do
  set -- $spec
  RADPASS_BENCH_STUDIES=$3 go test -run '^$' -bench "^$1\$" -benchtime 300x -count 1 -timeout 90m -v "$2" |
    # go test hands its output over at the end: the rows carry the load
    # average at the start and at the end of the run.
    awk -v n="$3" -v load0="$(cut -d' ' -f1 /proc/loadavg)" 'function load(  l) { getline l < "/proc/loadavg"; close("/proc/loadavg"); split(l, a, " "); return load0 "-" a[1] }
         /bulk-loaded|studies; staff/ { sub(/^[ \t]*[a-z_]+\.go:[0-9]+: /, ""); print "  " $0 }
         /^Benchmark[A-Za-z]+\/[^ \t]+[ \t]+[0-9]+[ \t]/ {
           name = $1; sub(/-[0-9]+$/, "", name)
           delete m
           for (i = 3; i < NF; i++) m[$(i+1)] = $i
           line = sprintf("  %-40s p50 %7s ms  p95 %7s ms  p99 %7s ms", name, m["p50-ms"], m["p95-ms"], m["p99-ms"])
           if ("sql-p95-ms" in m) line = line sprintf("  bare SQL p95 %7s ms  ratio %5s  rows %s", m["sql-p95-ms"], m["ratio-p95"], m["rows"])
           print line
           # The row of the summary table (scripts/bench_table.sh).
           what = name; sub(/^Benchmark[A-Za-z]+\//, "", what)
           if ("sql-p95-ms" in m)
             printf "BENCHROW study list %s at %s studies, p95 (load %s)|%s ms|< 20 ms, ≤ 2× bare SQL|bare SQL %s ms|%s|%s\n", what, n, load(), m["p95-ms"], m["sql-p95-ms"], m["ratio-p95"], (m["p95-ms"] + 0 < 20 && m["ratio-p95"] + 0 <= 2) ? "pass" : "FAIL"
           else
             printf "BENCHROW whole GET /staff/ over loopback, %s, at %s studies, p95 (load %s)|%s ms|—|—|—|—\n", what, n, load(), m["p95-ms"]
         }
         /^(FAIL|ok|PASS|---)/ { print }'
done
