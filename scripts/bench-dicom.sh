#!/usr/bin/env bash
# Import benchmark (make bench): a >= 500 MB folder of real DICOM files with
# new UIDs, imported with `bin/radpass import` into a fresh database.
# Prints MB/s, instances/s and the peak RSS of the import process.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${RADPASS_TEST_DATABASE_URL:?set by scripts/bench.sh}"
: "${RADPASS_BENCH_TMP:?set by scripts/bench.sh}"
work=$RADPASS_BENCH_TMP/dicom-import
rm -rf "$work"
mkdir -p "$work"
[ -x bin/radpass ] || go build -o bin/radpass ./cmd/radpass
go run ./scripts/benchgen -out "$work/files" -mb "${BENCH_DICOM_MB:-520}"

db=dicom_bench_$$
psql -q "$RADPASS_TEST_DATABASE_URL" -c "CREATE DATABASE $db"
dsn=$(printf '%s' "$RADPASS_TEST_DATABASE_URL" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")
trap 'psql -q "$RADPASS_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
export RADPASS_DATABASE_URL=$dsn
export RADPASS_SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export RADPASS_DATA_DIR=$work/data
./bin/radpass migrate up >/dev/null
psql -q "$dsn" -c "INSERT INTO departments (code, name) VALUES ('BENCH', 'Benchmark')"

if [ -x /usr/bin/time ]; then
  /usr/bin/time -v ./bin/radpass import --quiet --department BENCH "$work/files" >"$work/summary.txt" 2>"$work/time.txt"
  rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
else
  ./bin/radpass import --quiet --department BENCH "$work/files" >"$work/summary.txt"
  rss_kb=""
fi
cat "$work/summary.txt"
if [ -n "$rss_kb" ]; then
  echo "peak RSS of the import: $((rss_kb / 1024)) MB"
  # The row of make bench's summary table (scripts/bench_table.sh).
  echo "BENCHROW DICOM import of ${BENCH_DICOM_MB:-520} MB, peak RSS|$((rss_kb / 1024)) MB|< 300 MB|—|—|$([ $((rss_kb / 1024)) -lt 300 ] && echo pass || echo FAIL)"
fi
rm -rf "$work"
