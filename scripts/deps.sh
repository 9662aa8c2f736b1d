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
# The pinned test tools below are built or unpacked once per machine into a
# cache folder named by version (like Go's module and build caches), and a
# new clone links them into bin/ instead of building them again: 20-40 s of
# make test in a fresh clone. A partly written entry never lands in the
# cache: each is made in a temporary folder there and renamed into place.
cache=${RADPASS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/radpass}
# go_tool NAME MODULE@VERSION: bin/NAME from the Go module proxy.
go_tool() {
  local name=$1 module=$2 version=${2##*@} entry
  entry="$cache/$name-$version"
  if [ ! -x "$entry/$name" ]; then
    echo "installing: $name $version (go install into $entry)"
    mkdir -p "$cache"
    local t
    t=$(mktemp -d "$cache/.new-$name-XXXXXX")
    GOBIN="$t" go install "$module"
    rm -rf "$entry" && mv "$t" "$entry"
  fi
  mkdir -p bin
  ln -sfn "$entry/$name" "bin/$name"
}
if [ "${1:-run}" = test ]; then
  # Mailpit, the real SMTP server of the e-mail tests (shared/testkit/testsmtp;
  # the test never skips without it).
  go_tool mailpit github.com/axllent/mailpit@v1.27.11
  # versitygw, the real S3 server of the object-storage tests
  # (shared/testkit/tests3, its POSIX backend in a temporary folder), Apache-2.0.
  go_tool versitygw github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi
# The OHIF viewer (@ohif/app's built dist, MIT) that TestOpenInOHIFPaintsTheStudySystem serves
# (shared/dicomweb): npm pack checks the tarball against the registry's integrity, this script
# against the pinned one, then its dist/ is unpacked into the cache (200 MB; npm install of the
# package would pull its whole source tree of dependencies instead) and linked into bin/.
OHIF_VERSION=3.12.10
OHIF_INTEGRITY=sha512-0kuF66Mq9c9dMD++bUsTjMrJpXJwaZhz9B4uS244DawAjSkTwIYFU93pxPuRUQixaRi7QAHlF3Fe1qudBlZrmA==
if [ "${1:-run}" = test ] && [ ! -f "$cache/ohif-$OHIF_VERSION/index.html" ]; then
  echo "installing: @ohif/app $OHIF_VERSION (npm pack, its dist into $cache)"
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.new-ohif-XXXXXX")
  (cd "$tmp" && npm pack "@ohif/app@$OHIF_VERSION" --loglevel=error >/dev/null)
  got=$(node -e 'process.stdout.write("sha512-"+require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tmp/ohif-app-$OHIF_VERSION.tgz")
  if [ "$got" != "$OHIF_INTEGRITY" ]; then
    echo "@ohif/app $OHIF_VERSION: integrity $got, want $OHIF_INTEGRITY" >&2
    rm -rf "$tmp"
    exit 1
  fi
  mkdir -p "$tmp/dist"
  tar xzf "$tmp/ohif-app-$OHIF_VERSION.tgz" -C "$tmp/dist" --strip-components=2 package/dist
  rm -rf "$cache/ohif-$OHIF_VERSION" && mv "$tmp/dist" "$cache/ohif-$OHIF_VERSION"
  rm -rf "$tmp"
fi
if [ "${1:-run}" = test ]; then
  mkdir -p bin
  rm -rf "bin/ohif-$OHIF_VERSION"
  ln -sfn "$cache/ohif-$OHIF_VERSION" "bin/ohif-$OHIF_VERSION"
fi
