#!/usr/bin/env bash
# compose-vs-local.sh: wall time of the bundled raftkv scenarios (scenarios/raftkv, five
# scenarios) against local etcd processes and against compose containers, in one run, so
# the cost of containers is measured on the same machine at the same time. Compose is
# timed twice: cold (the run brings the project up) and warm (the project is up, as for a
# user who keeps it). Each run must pass; the project is removed at the end, also when a
# run fails. For a machine like the CI ones (podman, no registry):
#
#   scripts/compose-vs-local.sh [TF_BINARY]     (default build/bin/tf)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tf=${1:-$root/build/bin/tf}
cli=${CLI:-podman}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$root/scenarios/deploy/compose/containers.conf}
export TF_ETCD_IMAGE=${TF_ETCD_IMAGE:-$(ENGINE=$cli "$root/scripts/build-etcd-image.sh")}
export TF_COMPOSE_PROJECT=tf-bench-$$
export TF_COMPOSE_FILE=$root/scenarios/deploy/compose/etcd-3.yml
unset TF_ENV TF_COMPOSE_LABEL

# three client ports nobody listens on (bash's /dev/tcp: refused means free)
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
export TF_ETCD1_PORT=$(free_port) TF_ETCD2_PORT=$(free_port) TF_ETCD3_PORT=$(free_port)

cleanup() {
  "$cli" ps -a -q --filter "label=com.docker.compose.project=$TF_COMPOSE_PROJECT" |
    xargs -r "$cli" rm -f -v >/dev/null 2>&1 || true
  "$cli" network ls -q --filter "label=com.docker.compose.project=$TF_COMPOSE_PROJECT" |
    xargs -r "$cli" network rm >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Runs tf on the raftkv scenarios in env $1; prints the wall time in seconds.
timed() {
  local t0 t1 out
  t0=$(date +%s.%N)
  if ! out=$("$tf" run --env "$1" --format summary --no-color "$root/scenarios/raftkv" 2>&1); then
    echo "$out" >&2
    echo "compose-vs-local: tf run --env $1 failed" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  grep -q '^5 scenarios (5 passed)' <<<"$out" || { echo "$out" >&2; exit 1; }
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

local_s=$(timed local)
cold_s=$(timed compose)
warm_s=$(timed compose)
printf 'raftkv scenarios (5), wall time, one run on %s (%s cores)\n' "$(hostname)" "$(nproc)"
printf '  --env local            %6.1f s\n' "$local_s"
printf '  --env compose (cold)   %6.1f s   %.2fx local (includes bringing the project up)\n' \
  "$cold_s" "$(ratio "$cold_s" "$local_s")"
printf '  --env compose (warm)   %6.1f s   %.2fx local\n' "$warm_s" "$(ratio "$warm_s" "$local_s")"
