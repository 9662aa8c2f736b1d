#!/usr/bin/env bash
# Study list search at 1,000,000 studies (called by scripts/bench.sh, which
# exports RADPASS_TEST_DATABASE_URL). The benchmark creates its own database
# from the migrated template, bulk-loads the studies with COPY (the same code
# as `radpass seed --studies N`), then times each search case: p50/p95/p99 of
# studies.Search and the p95 of the bare SQL through database/sql.
# RADPASS_BENCH_STUDIES overrides the size; RADPASS_BENCH_STUDYLIST_DSN reuses
# an already seeded database instead.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${RADPASS_TEST_DATABASE_URL:?run through scripts/bench.sh (make bench), which starts PostgreSQL}"
export RADPASS_BENCH_STUDIES=${RADPASS_BENCH_STUDIES:-1000000}
echo "study list search, ${RADPASS_BENCH_STUDIES} studies (target: p95 < 20 ms)"
go test -run '^$' -bench '^BenchmarkSearch$' -benchtime 300x -count 1 -timeout 30m -v ./shared/studies/ |
  awk '/bulk-loaded|studies; staff/ { sub(/^[ \t]*bench_test.go:[0-9]+: /, ""); print "  " $0 }
       /^BenchmarkSearch\// {
         name = $1; sub(/^BenchmarkSearch\//, "", name); sub(/-[0-9]+$/, "", name)
         for (i = 3; i < NF; i++) m[$(i+1)] = $i
         printf "  %-22s p50 %6s ms  p95 %6s ms  p99 %6s ms  bare SQL p95 %6s ms  ratio %5s  rows %s\n",
           name, m["p50-ms"], m["p95-ms"], m["p99-ms"], m["sql-p95-ms"], m["ratio-p95"], m["rows"]
       }
       /^(FAIL|ok|PASS)/ { print }'
