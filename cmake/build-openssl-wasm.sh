#!/usr/bin/env bash
# Builds OpenSSL's libssl and libcrypto for WebAssembly with Emscripten, from Debian's `openssl`
# source package (its upstream tarball), or from a local OpenSSL 3 tarball given as $1. The result
# is cached outside any build tree, keyed by version:
#   ${SMTPC_CACHE:-~/.cache/smtpc}/openssl-wasm-<version>/{include,lib}
# A later run reuses a cached build without touching the network. Prints the prefix last.
set -euo pipefail

cache="${SMTPC_CACHE:-$HOME/.cache/smtpc}"
mkdir -p "$cache"
tarball="${1:-}"

finish() { echo "$1"; exit 0; }
is_built() { [ -f "$1/lib/libssl.a" ] && [ -f "$1/lib/libcrypto.a" ]; }

if [ -n "$tarball" ]; then
  version=$(basename "$tarball" | sed -E 's/^openssl[-_]([0-9][^/]*)(\.orig)?\.tar\.gz$/\1/')
  is_built "$cache/openssl-wasm-$version" && finish "$cache/openssl-wasm-$version"
else
  # Any cached build will do: the newest.
  newest=$(ls -d "$cache"/openssl-wasm-* 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$newest" ] && is_built "$newest" && finish "$newest"
fi

command -v emcc >/dev/null || { echo "build-openssl-wasm: emcc not found (apt-get install emscripten)" >&2; exit 1; }
export NODE_PATH=/usr/share/nodejs   # Emscripten 3.1.6's JS optimizer needs Debian's acorn

work=$(mktemp -d "$cache/openssl-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

if [ -z "$tarball" ]; then
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  if [ -z "$(apt-cache showsrc openssl 2>/dev/null | grep '^Version')" ]; then
    # `apt-get source` needs deb-src entries: copy the enabled Debian ones (same mirrors, suites).
    {
      for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && grep -q 'debian' "$f" && sed -E 's/^Types: *deb$/Types: deb-src/' "$f" && echo
      done
    } > "$work/deb-src.sources" || true
    {
      for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && grep -E '^deb .*debian' "$f" | sed 's/^deb /deb-src /'
      done
    } > "$work/deb-src.list" || true
    [ -s "$work/deb-src.sources" ] && "${sudo_cmd[@]}" cp "$work/deb-src.sources" /etc/apt/sources.list.d/smtpc-deb-src.sources
    [ -s "$work/deb-src.list" ] && "${sudo_cmd[@]}" cp "$work/deb-src.list" /etc/apt/sources.list.d/smtpc-deb-src.list
    "${sudo_cmd[@]}" apt-get update -q >/dev/null
  fi
  # The installed library's version first, then the archive's, newest first: the first whose
  # upstream tarball downloads is built. (A mirror may lack one version's files.)
  installed=$(dpkg-query -W -f='${Version}' libssl-dev 2>/dev/null || true)
  candidates=$( { [ -n "$installed" ] && echo "$installed"; apt-cache showsrc openssl | awk '/^Version:/ {print $2}' | sort -rV; } | awk '!seen[$0]++')
  for candidate in $candidates; do
    apt-get source --download-only -q "openssl=$candidate" >/dev/null 2>&1 || true
    upstream=${candidate%%-*}
    if [ -f "openssl_${upstream}.orig.tar.gz" ]; then
      tarball="$work/openssl_${upstream}.orig.tar.gz"
      break
    fi
  done
  [ -n "$tarball" ] || { echo "build-openssl-wasm: could not download Debian's openssl source" >&2; exit 1; }
  version="$upstream"
fi

prefix="$cache/openssl-wasm-$version"
tar xzf "$tarball"
cd "$(find . -maxdepth 1 -type d -name 'openssl-*' | head -1)"

# linux-generic32: no assembly, 32-bit limbs, which is what wasm32 wants. The em-prefixed tools
# are given directly: `emconfigure ./Configure` would prefix them twice.
echo "build-openssl-wasm: building OpenSSL $version for wasm (about 5 minutes)" >&2
CC=emcc AR=emar RANLIB=emranlib ./Configure linux-generic32 \
  no-asm no-threads no-shared no-dso no-engine no-tests no-ui-console no-afalgeng no-async no-sock \
  -Os --prefix="$prefix.partial" --openssldir=/etc/ssl >/dev/null
make -j"$(nproc)" build_libs >/dev/null
rm -rf "$prefix.partial"
make install_dev >/dev/null
mv "$prefix.partial" "$prefix"   # appears whole or not at all
finish "$prefix"
