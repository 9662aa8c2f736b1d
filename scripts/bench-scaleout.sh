#!/usr/bin/env bash
# Scale-out benchmark: patient sign-in and image views through nginx with 1, 2
# and 3 `radpass serve` instances on one PostgreSQL (shared/testkit/cluster,
# BenchmarkScaleout): req/s, p50/p99 and CPU milliseconds per request of the
# radpass processes and of nginx. Not part of `make test`.
# usage: scripts/bench-scaleout.sh   (RADPASS_TEST_DATABASE_URL set, or a
# throwaway PostgreSQL is started; BENCH_SCALEOUT_SECONDS, BENCH_SCALEOUT_CLIENTS)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RADPASS_TEST_DATABASE_URL:-}" ]; then
  # shellcheck source=/dev/null
  . scripts/throwaway-pg.sh 56900
fi
go test -count=1 -run '^$' -bench '^BenchmarkScaleout$' -benchtime 1x -timeout 30m ./shared/testkit/cluster
