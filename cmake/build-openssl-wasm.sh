#!/usr/bin/env bash
# Builds OpenSSL's libssl and libcrypto for WebAssembly with Emscripten, from Debian's `openssl`
# source package (its upstream tarball), or from a local OpenSSL 3 tarball given as $1. The result
# is cached outside any build tree, keyed by version and by a hash of the configuration and emcc:
#   ${SMTPC_CACHE:-~/.cache/smtpc}/openssl-wasm-<version>-<key>/{include,lib}
# A later run reuses a cached build without touching the network. Prints the prefix last.
set -euo pipefail

cache="${SMTPC_CACHE:-$HOME/.cache/smtpc}"
mkdir -p "$cache"
tarball="${1:-}"

# What a TLS 1.2/1.3 client of today's mail servers needs, and no more: every algorithm left in
# ends up in the page (OpenSSL 3's providers reach all of them).
features=(no-asm no-threads no-shared no-dso no-engine no-tests no-ui-console no-afalgeng no-async no-sock
  no-ssl3 no-tls1 no-tls1_1 no-dtls no-dgram no-srtp no-nextprotoneg no-comp no-ct no-ocsp no-cms no-ts
  no-cmp no-srp no-gost no-sm2 no-sm3 no-sm4 no-aria no-camellia no-bf no-cast no-des no-idea
  no-seed no-rc2 no-rc4 no-rc5 no-md4 no-mdc2 no-rmd160 no-whirlpool no-dsa no-ec2m no-scrypt
  no-siphash no-siv no-ocb no-legacy)

finish() { echo "$1"; exit 0; }
is_built() { [ -f "$1/lib/libssl.a" ] && [ -f "$1/lib/libcrypto.a" ]; }

command -v emcc >/dev/null || { echo "build-openssl-wasm: emcc not found (apt-get install emscripten)" >&2; exit 1; }
export NODE_PATH=/usr/share/nodejs   # Emscripten 3.1.6's JS optimizer needs Debian's acorn

# How OpenSSL is configured; the build steps below are fixed. Bump `recipe` if they change.
recipe=1
configure=(linux-generic32 "${features[@]}" -Os)

# The cache key covers everything that changes the build: OpenSSL's version (in the folder name),
# the configuration above, the recipe and the compiler. A build made with other options or another
# Emscripten is never taken.
key=$(printf '%s\n' "recipe $recipe" "${configure[*]}" "$(emcc --version 2>/dev/null | head -1)" | sha256sum | cut -c1-12)

# Which OpenSSL: a tarball given as $1, else the version of the installed libssl-dev (read
# offline, so a cached build is found without asking the network), else the archive's newest.
if [ -n "$tarball" ]; then
  version=$(basename "$tarball" | sed -E 's/^openssl[-_]([0-9][^/]*)(\.orig)?\.tar\.gz$/\1/')
else
  installed=$(dpkg-query -W -f='${Version}' libssl-dev 2>/dev/null || true)
  version=${installed%%-*}
fi
if [ -n "$version" ]; then
  is_built "$cache/openssl-wasm-$version-$key" && finish "$cache/openssl-wasm-$version-$key"
fi
# The mirror may not carry the installed version's source (then the archive's newest was built):
# any build made by this same script and compiler will do, without asking the network again.
if [ -z "$tarball" ]; then
  newest=$(ls -d "$cache"/openssl-wasm-*-"$key" 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$newest" ] && is_built "$newest" && finish "$newest"
fi

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

prefix="$cache/openssl-wasm-$version-$key"
is_built "$prefix" && finish "$prefix"
tar xzf "$tarball"
cd "$(find . -maxdepth 1 -type d -name 'openssl-*' | head -1)"

# linux-generic32: no assembly, 32-bit limbs, which is what wasm32 wants. The em-prefixed tools
# are given directly: `emconfigure ./Configure` would prefix them twice.
echo "build-openssl-wasm: building OpenSSL $version for wasm (about 5 minutes)" >&2
CC=emcc AR=emar RANLIB=emranlib ./Configure "${configure[@]}" \
  --prefix="$prefix.partial" --openssldir=/etc/ssl >/dev/null
make -j"$(nproc)" build_libs >/dev/null
rm -rf "$prefix.partial"
make install_dev >/dev/null
mv "$prefix.partial" "$prefix"   # appears whole or not at all
finish "$prefix"
