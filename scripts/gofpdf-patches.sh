#!/usr/bin/env bash
# third_party/gofpdf is upstream gofpdf (the release below, from the Go module
# cache, fetched through the Go proxy when missing) with the patches in
# third_party/gofpdf-patches applied in name order. Only upstream's non-test
# .go files, LICENSE, README.md and go.mod are taken.
#
#   scripts/gofpdf-patches.sh check   fail unless upstream + patches is byte-identical
#                                     to third_party/gofpdf (run by make test)
#   scripts/gofpdf-patches.sh apply   write upstream + patches to third_party/gofpdf
#   scripts/gofpdf-patches.sh diff    print what third_party/gofpdf has beyond
#                                     upstream + patches, as a patch: with a header
#                                     (what and why, tests) above it, it is the next
#                                     NNNN-name.patch (write it elsewhere, then move it in)
set -euo pipefail
cd "$(dirname "$0")/.."

module=github.com/phpdave11/gofpdf
version=v1.4.3
# The module zip's hash (as in a go.sum line): the release the patches are against.
sum=h1:M/zHvS8FO3zh9tUd2RCOPEjyuVcs281FCyF22Qlz/IA=
dest=third_party/gofpdf
patches=$PWD/third_party/gofpdf-patches

mode=${1:-check}
case $mode in check | apply | diff) ;; *)
  echo "usage: $0 [check|apply|diff]" >&2
  exit 2
  ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Outside RadPass's module, whose go.mod replaces the module by the copy. The
# hash is checked here against the pin, so the checksum database is not asked.
json=$(cd "$tmp" && GOWORK=off GOFLAGS= GONOSUMDB=$module go mod download -json "$module@$version")
field() { printf '%s\n' "$json" | sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p"; }
dir=$(field Dir)
got=$(field Sum)
if [ "$got" != "$sum" ]; then
  echo "gofpdf-patches: $module@$version has hash $got, want $sum" >&2
  exit 1
fi

src=$tmp/gofpdf
mkdir "$src"
for f in "$dir"/*.go "$dir"/LICENSE "$dir"/README.md "$dir"/go.mod; do
  case $f in *_test.go) continue ;; esac
  cp "$f" "$src/"
done
chmod -R u+w,go-w "$src"

# A repository of its own, so that git apply reads the paths relative to it.
git -C "$src" init -q
for p in "$patches"/*.patch; do
  if ! git -C "$src" apply --whitespace=nowarn "$p"; then
    echo "gofpdf-patches: $(basename "$p") does not apply" >&2
    exit 1
  fi
done

# What third_party/gofpdf has beyond upstream + patches, as a git diff.
changes() {
  git -C "$src" add -A
  git -C "$src" -c user.name=gofpdf-patches -c user.email=none commit -qm patched
  find "$src" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
  cp -R "$dest"/. "$src"/
  git -C "$src" add -A -N
  git -C "$src" diff --no-color --no-ext-diff
}

case $mode in
check)
  if diff -r -q --exclude=.git "$src" "$dest" >/dev/null; then
    echo "gofpdf-patches: $dest is $module $version with $(ls "$patches"/*.patch | wc -l) patches"
    exit 0
  fi
  echo "gofpdf-patches: $dest is not $module $version with the patches in third_party/gofpdf-patches;" >&2
  echo "make the difference below a patch, or run '$0 apply' to drop it:" >&2
  changes >&2
  exit 1
  ;;
apply)
  rm -rf "$dest"
  mkdir -p "$dest"
  find "$src" -mindepth 1 -maxdepth 1 ! -name .git -exec cp -R {} "$dest"/ \;
  echo "gofpdf-patches: wrote $dest"
  ;;
diff)
  changes
  ;;
esac
