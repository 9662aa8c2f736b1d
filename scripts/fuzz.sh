#!/usr/bin/env bash
# Runs every DICOM fuzz target briefly (make test calls this): the parse
# wrapper, and one per pixel data decoder (RLE, JPEG lossless/extended,
# JPEG-LS, JPEG 2000). Longer runs: FUZZTIME=10m scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-10s}"
run() { go test -run '^$' -fuzz "^$1\$" -fuzztime "$t" -fuzzminimizetime 5s "$2"; }
run FuzzParse ./shared/dicom/
run FuzzRLE ./shared/dicom/codec/
run FuzzJPEG ./shared/dicom/codec/
run FuzzDecode ./shared/dicom/codec/jpegls/
run FuzzDecode ./shared/dicom/codec/jpeg2000/
