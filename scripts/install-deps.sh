#!/usr/bin/env bash
# install-deps.sh: the one place tf installs system packages (Debian, apt-get).
# Idempotent: when every package is present it prints nothing and exits 0.
# Whatever this installs, the tests require under CI=true: a test that finds it missing
# fails there instead of skipping (tests/support/skip.h).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  binutils                         # readelf: test_durable_checkpoint's build-id cross-check
  clang libclang-rt-14-dev
  libglib2.0-dev libcurl4-openssl-dev libjansson-dev libcmocka-dev
  libsqlite3-dev libmicrohttpd-dev
  etcd-server etcd-client
  litecoind
  cucumber ruby-cucumber-wire      # test_wire_cucumber
  nodejs                           # test_html_formatter (@cucumber/html-formatter from npm)
  podman podman-compose runc netavark aardvark-dns   # test_deploy_real (real containers)
  iproute2 iptables                # network faults (ip, tc; conntrack, statistic) in namespaces
  python3                          # examples/httpstatus's web nodes (python3 -m http.server)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm is Debian's own package, but NodeSource's nodejs (on some machines) bundles it and
# conflicts with it: ask for it only when there is no npm at all.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
