#!/usr/bin/env bash
# install-deps.sh: the one place tf installs system packages (Debian, apt-get).
# Idempotent: when every package is present it prints nothing and exits 0.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  clang libclang-rt-14-dev
  libglib2.0-dev libcurl4-openssl-dev libjansson-dev libcmocka-dev
  libsqlite3-dev libmicrohttpd-dev
  etcd-server etcd-client
  litecoind
  cucumber ruby-cucumber-wire
  podman podman-compose runc netavark aardvark-dns iptables
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
