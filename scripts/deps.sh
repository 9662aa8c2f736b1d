#!/usr/bin/env bash
# Installs what `make run` / `make test` need when it is missing (Debian, as root).
# usage: scripts/deps.sh run|test
set -euo pipefail
need=()
have_pg() { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
have_pg || need+=(postgresql postgresql-contrib)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
# Image decoders (shared/dicom/codec): cgo over OpenJPEG and CharLS. The
# build needs the -dev packages (headers, pkg-config files, a C compiler);
# a deployed binary needs only libopenjp2-7 and libcharls2.
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
pkg-config --exists libopenjp2 2>/dev/null || need+=(libopenjp2-7-dev)
pkg-config --exists charls 2>/dev/null || need+=(libcharls-dev)
if [ "${1:-run}" = test ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
  # dcmtk (DICOMDIR and download checks too), GDCM and OpenJPEG tools: the
  # reference encoders/decoders the codec tests and benchmarks compare with.
  command -v dcmcjpls >/dev/null 2>&1 || need+=(dcmtk)
  command -v gdcmconv >/dev/null 2>&1 || need+=(libgdcm-tools)
  command -v opj_decompress >/dev/null 2>&1 || need+=(libopenjp2-tools)
  # dciodvfy (dicom3tools) judges de-identified objects; python3-pydicom ships public test objects (the de-identification corpus, palettes, RGB JPEG, 32-bit RLE).
  command -v dciodvfy >/dev/null 2>&1 || need+=(dicom3tools)
  [ -d /usr/lib/python3/dist-packages/pydicom/data/test_files ] || need+=(python3-pydicom)
  # zip -T judges every download archive in the tests.
  command -v zip >/dev/null 2>&1 || need+=(zip)
  # nginx: the proxy in front of several instances (shared/testkit/cluster).
  [ -x /usr/sbin/nginx ] || need+=(nginx)
  # Orthanc with its DICOMweb plugin retrieves studies through viewer links (shared/dicomweb).
  [ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || need+=(orthanc orthanc-dicomweb)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The project's front-end packages (htmx; axe-core for the accessibility
# checks of the browser tests; dicomweb-client, a DICOMweb client of the viewer
# link tests), pinned by package-lock.json.
if [ ! -f node_modules/htmx.org/dist/htmx.min.js ] || [ ! -f node_modules/axe-core/axe.min.js ] ||
  [ ! -f node_modules/dicomweb-client/build/dicomweb-client.js ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p static/vendor
cp -p node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
# Mailpit, the real SMTP server of the e-mail tests (shared/testkit/testsmtp), built
# from the Go module proxy into bin/ (pinned; the test never skips without it).
MAILPIT_VERSION=v1.27.11
if [ "${1:-run}" = test ] && [ ! -x bin/mailpit ]; then
  echo "installing: mailpit $MAILPIT_VERSION (go install into bin/)"
  GOBIN="$PWD/bin" go install "github.com/axllent/mailpit@$MAILPIT_VERSION"
fi
# versitygw, the real S3 server of the object-storage tests (shared/testkit/tests3,
# its POSIX backend in a temporary folder), built the same way (Apache-2.0, pinned).
VERSITYGW_VERSION=v1.8.0
if [ "${1:-run}" = test ] && [ ! -x bin/versitygw ]; then
  echo "installing: versitygw $VERSITYGW_VERSION (go install into bin/)"
  GOBIN="$PWD/bin" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
fi
# The OHIF viewer (@ohif/app's built dist, MIT) that TestOpenInOHIFPaintsTheStudySystem serves
# (shared/dicomweb): npm pack checks the tarball against the registry's integrity, this script
# against the pinned one, then its dist/ is unpacked into bin/ (200 MB; npm install of the
# package would pull its whole source tree of dependencies instead).
OHIF_VERSION=3.12.10
OHIF_INTEGRITY=sha512-0kuF66Mq9c9dMD++bUsTjMrJpXJwaZhz9B4uS244DawAjSkTwIYFU93pxPuRUQixaRi7QAHlF3Fe1qudBlZrmA==
if [ "${1:-run}" = test ] && [ ! -f "bin/ohif-$OHIF_VERSION/index.html" ]; then
  echo "installing: @ohif/app $OHIF_VERSION (npm pack, its dist into bin/)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "@ohif/app@$OHIF_VERSION" --loglevel=error >/dev/null)
  got=$(node -e 'process.stdout.write("sha512-"+require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tmp/ohif-app-$OHIF_VERSION.tgz")
  if [ "$got" != "$OHIF_INTEGRITY" ]; then
    echo "@ohif/app $OHIF_VERSION: integrity $got, want $OHIF_INTEGRITY" >&2
    exit 1
  fi
  mkdir -p "$tmp/dist" bin
  tar xzf "$tmp/ohif-app-$OHIF_VERSION.tgz" -C "$tmp/dist" --strip-components=2 package/dist
  rm -rf "bin/ohif-$OHIF_VERSION" && mv "$tmp/dist" "bin/ohif-$OHIF_VERSION"
  rm -rf "$tmp"
fi
