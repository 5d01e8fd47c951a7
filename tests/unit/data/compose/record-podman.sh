#!/usr/bin/env bash
# record-podman.sh: records what the real podman and podman-compose print for the compose
# provider's fixtures (tests/unit/data/compose/podman-*). Run by hand on a machine where
# podman runs containers (README beside this file says which versions made the committed
# files); it brings up a private project, injects each fault the provider uses, writes
# what `ps`, `network ls`, `volume ls` and the failing commands print, and removes
# everything it created, also when it fails.
#
#   tests/unit/data/compose/record-podman.sh [OUT_DIR]    (default: this folder)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
out=${1:-$here}
file=$root/scenarios/deploy/compose/etcd-3.yml
export CONTAINERS_CONF=${CONTAINERS_CONF:-$root/scenarios/deploy/compose/containers.conf}
export TF_ETCD_IMAGE=${TF_ETCD_IMAGE:-$("$root/scripts/build-etcd-image.sh")}
export TF_ETCD1_PORT=12379 TF_ETCD2_PORT=22379 TF_ETCD3_PORT=32379
# An owner label as a test would set it (tf_owner_token of a process that has ended).
export TF_COMPOSE_OWNER=${TF_COMPOSE_OWNER:-$(sh -c 'echo "$(head -c8 /proc/sys/kernel/random/boot_id)-$(stat -Lc %i /proc/self/ns/pid)-$$-$(cut -d" " -f22 /proc/self/stat)"')}
P=tf-etcd
bad=tf-etcd-noulimit
ps() { podman ps -a --format json --filter "label=com.docker.compose.project=$1"; }

cleanup() {
  for p in $P $bad; do
    podman ps -a -q --filter "label=com.docker.compose.project=$p" | xargs -r podman rm -f -v >/dev/null
    podman network rm -f "${p}_default" >/dev/null 2>&1 || true
  done
  podman volume rm -f tf-etcd_extra >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

podman-compose -p $P -f "$file" up -d >/dev/null 2>&1
# ready: each member answers /health (a leader elected)
for port in $TF_ETCD1_PORT $TF_ETCD2_PORT $TF_ETCD3_PORT; do
  for _ in $(seq 100); do
    curl -sf -m 1 "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.1
  done
done
ps $P >"$out/podman-4.3-ps-running.json"

# running -> paused, killed (SIGKILL: exit 137), disconnected from the project network
podman pause ${P}_etcd1_1 >/dev/null
podman kill ${P}_etcd2_1 >/dev/null
podman network disconnect ${P}_default ${P}_etcd3_1
sleep 1
ps $P >"$out/podman-4.3-ps-faults.json"

# what the engine says when a fault does not fit the container's state
podman pause ${P}_etcd2_1 2>"$out/podman-4.3-pause-exited.stderr" && exit 1
podman kill ${P}_etcd2_1 2>"$out/podman-4.3-kill-exited.stderr" && exit 1
podman network disconnect ${P}_default ${P}_etcd3_1 2>"$out/podman-4.3-disconnect-twice.stderr" && exit 1
podman start ${P}_nosuch_1 2>"$out/podman-4.3-start-missing.stderr" && exit 1

# back: unpause, start, reconnect (with the service name as alias, as compose made it);
# then a graceful stop (exit 0)
podman unpause ${P}_etcd1_1 >/dev/null
podman start ${P}_etcd2_1 >/dev/null
podman network connect --alias etcd3 ${P}_default ${P}_etcd3_1
podman stop ${P}_etcd2_1 >/dev/null
ps $P >"$out/podman-4.3-ps-stopped.json"

# networks and volumes as the sweep lists them
podman volume create --label tf.owner="$TF_COMPOSE_OWNER" --label com.docker.compose.project=$P tf-etcd_extra >/dev/null
podman network ls --format json --filter label=tf.owner >"$out/podman-4.3-network-ls.json"
podman volume ls --format json --filter label=tf.owner >"$out/podman-4.3-volume-ls.json"

# a constrained host: podman's default rlimits above the session's hard limits
conf=$(mktemp)
sed 's/^default_ulimits.*/default_ulimits = ["nofile=1048576:1048576"]/' "$CONTAINERS_CONF" >"$conf"
TF_ETCD1_PORT=12479 TF_ETCD2_PORT=22479 TF_ETCD3_PORT=32479 CONTAINERS_CONF=$conf \
  podman-compose -p $bad -f "$file" up -d >"$out/podman-compose-1.0.3-up-noulimit.stdout" \
  2>"$out/podman-compose-1.0.3-up-noulimit.stderr" || echo "podman-compose exited $?" >&2
CONTAINERS_CONF=$conf ps $bad >"$out/podman-4.3-ps-not-started.json"
rm -f "$conf"
podman --version >"$out/VERSIONS"
podman-compose version 2>/dev/null | grep -i 'podman-compose' >>"$out/VERSIONS" || true
echo "recorded into $out"
