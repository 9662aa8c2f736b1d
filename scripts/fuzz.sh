#!/usr/bin/env bash
# Runs the DICOM parse-wrapper fuzz target briefly (make test calls this).
# Longer runs: FUZZTIME=10m scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -fuzz '^FuzzParse$' -fuzztime "${FUZZTIME:-10s}" -fuzzminimizetime 5s ./shared/dicom/
