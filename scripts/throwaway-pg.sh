# Sourced by test.sh and bench.sh: builds radpass, starts a throwaway
# PostgreSQL cluster on the first free port from $1 in a new folder under
# $TMPDIR or /tmp (removed on exit) and exports RADPASS_TEST_DATABASE_URL and $tmp.
go build -o bin/radpass ./cmd/radpass
port=$1
while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/radpass-pg.XXXXXX")
chmod 755 "$tmp"
cleanup() { ./bin/radpass localpg stop "$tmp/pg" "$port" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
RADPASS_TEST_DATABASE_URL=$(./bin/radpass localpg start "$tmp/pg" "$port")
export RADPASS_TEST_DATABASE_URL
