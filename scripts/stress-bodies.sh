#!/usr/bin/env bash
# make bench, stress section, request bodies: peak RSS
# (VmHWM) of a real `radpass serve` while 20 clients POST 60 MiB each to
# /dicomweb/studies without a token (target < 400 MiB: nothing is read before
# the token is checked), and while 20 authenticated STOW-RS pushes of about
# 60 MiB of distinct DICOM instances stream to storage. Each phase runs its
# own server process, so each peak is that phase's alone.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${RADPASS_TEST_DATABASE_URL:?set by scripts/bench.sh}"
: "${RADPASS_BENCH_TMP:?set by scripts/bench.sh}"
work=$RADPASS_BENCH_TMP/stress-bodies
rm -rf "$work"
mkdir -p "$work"
[ -x bin/radpass ] || go build -o bin/radpass ./cmd/radpass
go build -o "$work/stressbodies" ./scripts/stress-bodies

db=stress_bodies_$$
psql -q "$RADPASS_TEST_DATABASE_URL" -c "CREATE DATABASE $db"
dsn=$(printf '%s' "$RADPASS_TEST_DATABASE_URL" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  psql -q "$RADPASS_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export RADPASS_DATABASE_URL=$dsn
export RADPASS_SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export RADPASS_DATA_DIR=$work/data
export RADPASS_LOG_LEVEL=warn
port=18480
while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
export RADPASS_ADDR=127.0.0.1:$port
./bin/radpass migrate up >/dev/null
psql -q "$dsn" -c "INSERT INTO departments (code, name) VALUES ('STRESS', 'Stress')"
token=$(./bin/radpass token add --department STRESS --name stress | tail -n 1)

serve() {
  ./bin/radpass serve >"$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://$RADPASS_ADDR/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "radpass serve did not become ready" >&2
  cat "$work/serve.log" >&2
  exit 1
}
peak() { awk '/^VmHWM/ {printf "%d MiB", $2 / 1024}' "/proc/$pid/status"; }
# A row of make bench's summary table (scripts/bench_table.sh): what, target MiB.
row() { awk -v what="$1" -v t="$2" '/^VmHWM/ { v = int($2 / 1024); printf "BENCHROW %s|%d MiB|%s|—|—|%s\n", what, v, t ? "< " t " MiB" : "—", t ? (v < t ? "pass" : "FAIL") : "—" }' "/proc/$pid/status"; }
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

serve
echo "server idle: $(peak)"
row "server idle RSS" 60
"$work/stressbodies" -addr "$RADPASS_ADDR" -mode anon -n 20 -mb 60
echo "peak RSS during 20 parallel unauthenticated 60 MiB POSTs: $(peak) (target < 400 MiB)"
row "server peak RSS, 20 parallel unauthenticated 60 MiB POSTs" 400
stop

serve
"$work/stressbodies" -addr "$RADPASS_ADDR" -mode stow -token "$token" -n 20 -mb 60
echo "peak RSS during 20 parallel authenticated 60 MiB STOW-RS pushes: $(peak)"
row "server peak RSS, 20 parallel 60 MiB STOW-RS pushes" 400
echo "instances stored: $(psql -qtA "$dsn" -c 'SELECT count(*) FROM instances')"
stop
