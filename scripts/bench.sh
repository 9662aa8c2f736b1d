#!/usr/bin/env bash
# make bench: Go benchmarks (testing.B) and the load generators, against a
# throwaway PostgreSQL like make test. Figures go to stdout; the README keeps them.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/radpass ./cmd/radpass
port=55700
while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
tmp=$(mktemp -d /tmp/radpass-bench.XXXXXX)
chmod 755 "$tmp"
cleanup() { ./bin/radpass localpg stop "$tmp/pg" "$port" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
export RADPASS_TEST_DATABASE_URL=$(./bin/radpass localpg start "$tmp/pg" "$port")
export RADPASS_BENCH_TMP=$tmp
echo "== go benchmarks"
go test -run '^$' -bench . -benchmem -count 1 -timeout 30m ./...
for s in scripts/bench-*.sh; do
  [ -x "$s" ] || continue
  echo "== $s"
  "$s"
done
