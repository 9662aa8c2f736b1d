#!/usr/bin/env bash
# Runs every DICOM fuzz target briefly (make test calls this): the parse
# wrapper, and one per pixel data decoder (RLE, JPEG lossless/extended,
# JPEG-LS, JPEG 2000). Budgets are execution counts, not durations: Go
# 1.26's fuzz coordinator can report a spurious "context deadline exceeded"
# when a duration runs out under load (go.dev/issue/75804, fixed in 1.27);
# a count has no deadline to race.
# make test runs a short exploration (hundreds to a few thousand new inputs
# per target; an input that fails is written to testdata/fuzz and runs in
# every go test from then on); `make fuzz` explores longer (FUZZTIME, 5m per
# target unless set). The fuzz workers take every core: at 100,000 runs the
# RLE and JPEG targets alone ran 100 s of make test's 12 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
run() {
  local budget="${FUZZTIME:-$3}"
  go test -ldflags=-w -run '^$' -fuzz "^$1\$" -fuzztime "$budget" -fuzzminimizetime 50x -timeout 10m "$2"
}
run FuzzParse ./shared/dicom/ 300x
run FuzzRLE ./shared/dicom/codec/ 3000x
run FuzzJPEG ./shared/dicom/codec/ 3000x
# JPEG-LS: inputs that reach the decoder's time cut-off stall the count for
# seconds each (a clean clone at 2823afd: 10,000 runs took 211 s, most of it
# at 0 runs a second), so its budget is the smallest.
run FuzzDecode ./shared/dicom/codec/jpegls/ 500x
run FuzzDecode ./shared/dicom/codec/jpeg2000/ 1000x
