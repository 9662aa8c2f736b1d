#!/usr/bin/env bash
# make bench-quick: the headline benchmarks, three runs each, in under five
# minutes. Every figure is printed as the median of the three runs, with each
# run's value and the machine's 1-minute load average when that run started
# (a figure taken on a busy machine says so). Uses RADPASS_TEST_DATABASE_URL
# when set, else a throwaway PostgreSQL like make bench.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${RADPASS_TEST_DATABASE_URL:-}" ]; then
  . scripts/throwaway-pg.sh 55760
fi
export RADPASS_BENCH_SECONDS=${RADPASS_BENCH_SECONDS:-8}
runs=${RADPASS_BENCH_RUNS:-3}
out=$(mktemp -d /tmp/radpass-benchquick.XXXXXX)
trap 'rm -rf "$out"' EXIT
echo "bench-quick $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, RADPASS_BENCH_SECONDS=$RADPASS_BENCH_SECONDS"
go test -c -o "$out/patient.test" ./patient
go test -c -o "$out/letter.test" ./shared/letter
go test -c -o "$out/dicom.test" ./shared/dicom
# pkg binary benchmark-regexp benchtime
suites=(
  "patient patient.test ^(BenchmarkSignInLoad|BenchmarkAddressLimit)$ 1x"
  "letter letter.test ^BenchmarkLetterPDF$ 200x"
  "dicom dicom.test ^(BenchmarkRender512Cold|BenchmarkRender512Cached)$ 200x"
)
for i in $(seq 1 "$runs"); do
  for s in "${suites[@]}"; do
    read -r pkg bin re bt <<<"$s"
    load=$(cut -d' ' -f1 /proc/loadavg)
    (cd "$pkg" 2>/dev/null || cd "shared/$pkg"; "$out/$bin" -test.run '^$' -test.bench "$re" -test.benchtime "$bt" -test.benchmem) \
      > "$out/run$i-$pkg.txt" 2>&1 || { cat "$out/run$i-$pkg.txt"; exit 1; }
    # One line per figure: benchmark unit value load.
    awk -v load="$load" '/^Benchmark/ { name=$1; sub(/-[0-9]+$/, "", name);
        for (k = 3; k < NF; k += 2) print name, $(k+1), $k, load }' "$out/run$i-$pkg.txt" >> "$out/figures.txt"
  done
done
echo
printf '%-24s %-22s %12s   %s\n' benchmark figure median "runs (load average when each started)"
awk '{ key=$1" "$2; v[key]=v[key]" "$3; l[key]=l[key]" "$3"@"$4; if (!(key in seen)) { seen[key]=1; order[++n]=key } }
  END { for (i = 1; i <= n; i++) { k=order[i]; m=split(substr(v[k],2), a, " ");
      for (x = 1; x <= m; x++) for (y = x+1; y <= m; y++) if (a[y]+0 < a[x]+0) { t=a[x]; a[x]=a[y]; a[y]=t }
      split(k, kk, " "); printf "%-24s %-22s %12s   %s\n", kk[1], kk[2], a[int((m+1)/2)], substr(l[k],2) } }' "$out/figures.txt" \
  | grep -v -E ' (B/op|allocs/op) |^Benchmark(SignInLoad|AddressLimit) +ns/op '
echo
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg); figures on a machine whose load average is above its $(nproc) cores are not comparable with a quiet run"
