#!/usr/bin/env bash
# The one table `make bench` ends with, from the log of the run (bench.sh
# passes it): what, value, target, floor, ratio, pass.
#
# Rows come from two places:
#  - lines "BENCHROW what|value|target|floor|ratio|pass" that benchmark
#    scripts print (bench-studylist.sh, bench-dicom.sh, the stress programs,
#    the per-instance-count load script); printed as they are;
#  - the Go benchmarks' result lines, for the benchmarks listed in SPEC below.
# A row the run did not produce is printed as "not run", so a missing
# figure shows. The per-instance-count rows (sign-in and image views with 1, 2
# and 3 instances) come from their own scripts/bench-*.sh: BENCHROW lines
# whose "what" contains "per instance count" replace the placeholder row.
# Fields must not contain "|". Not named bench-*.sh: bench.sh runs those.
#
# Usage: scripts/bench_table.sh LOG
set -euo pipefail
log=${1:?usage: bench_table.sh LOG}

# One Go benchmark figure a line:
# benchmark regexp | metric | scale | unit | what | target op (< or >, - for none) | target | floor kind | floor metric | floor label
# floor kind: m = the floor is that metric (ratio value/floor), r = the metric
# is the ratio (floor value/ratio), - = no floor.
SPEC='
^BenchmarkSignInLoad$|p99-ms|1|ms|patient sign-in at 300/s over 200 connections, p99|<|100|r|p99-x-plain|plain Fiber handler
^BenchmarkSignInLoad$|max-req/s|1|/s|patient sign-ins per second at full speed|-|-|r|rate-x-plain|plain Fiber handler
^BenchmarkTimeToFirstImage$|median-ms|1|ms|time to first image, Chromium 360 px on Fast 3G, median|<|2000|-||
^BenchmarkImageStampede$|peak-RSS-MiB|1|MiB|100 parallel views of one uncached radiograph, peak RSS|-|-|-||
^BenchmarkStampede$|peak-RSS-MiB|1|MiB|100 parallel renders of one uncached radiograph, peak RSS|-|-|-||
^BenchmarkRender512Cold$|ns/op|0.000001|ms|512x512 16-bit frame to JPEG, cold|<|10|-||
^BenchmarkRender512Cached$|ns/op|0.000001|ms|512x512 16-bit frame to JPEG, cached|<|1|-||
^BenchmarkRenderRealCTCold$|ns/op|0.000001|ms|real CT sample to JPEG, cold|<|10|-||
^BenchmarkColdRenderSyntax/|cpu-ms/op|1|ms CPU|cold render|-|-|r|x-ref|dcmtk / OpenJPEG decoder
^BenchmarkLetterPDF$|ns/op|0.000001|ms|the letter PDF|<|10|-||
^BenchmarkPrintEndToEnd/|ms-median|1|ms|PRINT end to end over HTTP, median|<|30|-||
^BenchmarkParallelPrintsOneUser$|s-total|1|s|200 parallel prints by one user, all stored|-|-|-||
^BenchmarkStatusForwarding/list/|p95-ms|1|ms|Status Forwarding, p95|<|20|m|sql-p95-ms|bare SQL
^BenchmarkSignInWork$|cpu-µs/op|0.001|ms CPU|one patient sign-in, Go CPU|-|-|-||
'

awk -v spec="$SPEC" '
function num(x) { return x + 0 }
function fmtv(v) { return v >= 100 ? sprintf("%.0f", v) : v >= 10 ? sprintf("%.1f", v) : sprintf("%.2f", v) }
BEGIN {
  n = split(spec, lines, "\n")
  for (i = 1; i <= n; i++) if (lines[i] != "") { ns++; split(lines[i], f, "|"); for (k = 1; k <= 10; k++) S[ns, k] = f[k] }
}
/^BENCHROW / { sub(/^BENCHROW /, ""); rows[++nr] = $0; next }
/^Benchmark[^ \t]+[ \t]+[0-9]+[ \t]/ {
  name = $1; sub(/-[0-9]+$/, "", name)
  delete m
  for (i = 3; i < NF; i += 2) m[$(i+1)] = $i
  for (s = 1; s <= ns; s++) {
    if (name !~ S[s, 1] || !(S[s, 2] in m)) continue
    v = num(m[S[s, 2]]) * S[s, 3]
    what = S[s, 5]
    if (S[s, 1] ~ /\/$/) { part = name; sub(/^[^\/]+\//, "", part); what = what " (" part ")" }
    target = S[s, 6] == "-" ? "—" : S[s, 6] " " S[s, 7] " " S[s, 4]
    floor = "—"; ratio = "—"
    if (S[s, 8] == "m" && (S[s, 9] in m)) { fl = num(m[S[s, 9]]) * S[s, 3]; floor = S[s, 10] " " fmtv(fl) " " S[s, 4]; if (fl > 0) ratio = sprintf("%.2f", v / fl) }
    if (S[s, 8] == "r" && (S[s, 9] in m) && num(m[S[s, 9]]) > 0) { r = num(m[S[s, 9]]); floor = S[s, 10] " " fmtv(v / r) " " S[s, 4]; ratio = sprintf("%.2f", r) }
    pass = "—"
    if (S[s, 6] == "<") pass = v < S[s, 7] ? "pass" : "FAIL"
    if (S[s, 6] == ">") pass = v > S[s, 7] ? "pass" : "FAIL"
    rows[++nr] = what "|" fmtv(v) " " S[s, 4] "|" target "|" floor "|" ratio "|" pass
    seen[s] = 1
  }
}
END {
  for (s = 1; s <= ns; s++) if (!(s in seen)) rows[++nr] = S[s, 5] "|not run|" (S[s, 6] == "-" ? "—" : S[s, 6] " " S[s, 7] " " S[s, 4]) "|—|—|—"
  scale = 0
  for (i = 1; i <= nr; i++) if (rows[i] ~ /per instance count/) scale = 1
  if (!scale) rows[++nr] = "sign-in / image views per instance count (1, 2, 3), CPU s per request|not run|—|—|—|—"
  print "| what | value | target | floor | ratio | pass |"
  print "|---|---|---|---|---|---|"
  passed = 0; failed = 0
  for (i = 1; i <= nr; i++) {
    k = split(rows[i], c, "|")
    line = rows[i]; gsub(/\|/, " | ", line)
    print "| " line " |"
    if (c[k] == "pass") passed++
    if (c[k] == "FAIL") failed++
  }
  printf "\n%d rows: %d pass, %d FAIL, the rest without a target or not run\n", nr, passed, failed
}' "$log"
