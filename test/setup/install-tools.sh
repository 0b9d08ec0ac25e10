#!/usr/bin/env bash
# Installs the real tools the test suite drives: Prometheus and its promtool, Alertmanager and amtool,
# Chromium for the browser tests, VictoriaMetrics (a remote-write receiver), gdb (gcore), file and
# binutils (readelf) for the process dump tests, Wine for the Windows tier (whose Windows Node and koffi
# prebuild come from the npm registry: windows-node.sh), and what the package tests build and install
# artifacts with (zip, unzip, dpkg, unshare, ansible-playbook). Does nothing when all are present.
set -euo pipefail

declare -A need=(
  [promtool]=prometheus
  [prometheus]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [amtool]=prometheus-alertmanager
  [chromium]=chromium
  [openssl]=openssl
  [systemd-analyze]=systemd
  [gdb]=gdb
  [gcore]=gdb
  [file]=file
  [readelf]=binutils
  [wine]=wine
  [zip]=zip
  [unzip]=unzip
  [dpkg-deb]=dpkg
  [unshare]=util-linux
  [setpriv]=util-linux
  [sha256sum]=coreutils
  [ansible-playbook]=ansible-core
  [victoria-metrics]=victoria-metrics
  [python3]=python3
  [runuser]=util-linux
)
missing=()
for tool in "${!need[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${need[$tool]}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exec bash "$(dirname "$0")/windows-node.sh"
fi

packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "install-tools: missing $packages and not root; run: apt-get update && apt-get install -y $packages" >&2
  exit 1
fi
echo "install-tools: installing $packages" >&2
$sudo apt-get update -qq
# The packages' service scripts must not start daemons on this machine; tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $packages >/dev/null
bash "$(dirname "$0")/windows-node.sh"
