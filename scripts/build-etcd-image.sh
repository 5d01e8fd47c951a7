#!/usr/bin/env bash
# build-etcd-image.sh: a local etcd container image made from the etcd installed on this
# machine, for hosts that reach no image registry (CI here). `podman import` of a root
# filesystem holding the binary at /usr/local/bin/etcd (where the published images and
# scenarios/deploy/compose/etcd-3.yml have it) and every shared library `ldd` lists, at
# the paths the loader looks for. Idempotent: an image made from the same binary is kept.
#
#   scripts/build-etcd-image.sh [IMAGE]     (default localhost/tf-etcd:<etcd version>)
#   ETCD=/path/to/etcd ENGINE=podman|docker scripts/build-etcd-image.sh
#
# Prints the image name on stdout (use it as TF_ETCD_IMAGE). Users with a registry do not
# need this: TF_ETCD_IMAGE can name a published image (quay.io/coreos/etcd:v3.4.23).
set -euo pipefail

ETCD=${ETCD:-$(command -v etcd || true)}
ENGINE=${ENGINE:-podman}
die() { echo "build-etcd-image: $*" >&2; exit 1; }

[ -n "$ETCD" ] && [ -x "$ETCD" ] || die "no etcd binary (install etcd-server, or set ETCD=PATH)"
command -v "$ENGINE" >/dev/null || die "$ENGINE not found on PATH"
command -v ldd >/dev/null || die "ldd not found (libc-bin)"
version=$("$ETCD" --version | sed -n 's/^etcd Version: //p')
[ -n "$version" ] || die "$ETCD --version printed no 'etcd Version:' line"
IMAGE=${1:-localhost/tf-etcd:$version}
sum=$(sha256sum "$ETCD" | cut -c1-64)

# Same binary, same image: nothing to do.
if have=$("$ENGINE" image inspect --format '{{index .Labels "tf.etcd.sha256"}}' "$IMAGE" 2>/dev/null) &&
   [ "$have" = "$sum" ]; then
  echo "$IMAGE"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tf-etcd-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp" "$root/etcd-data"
chmod 1777 "$root/tmp"
cp "$ETCD" "$root/usr/local/bin/etcd"

# Each library at the path ldd names ("libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6" and
# the loader "/lib64/ld-linux-x86-64.so.2"), copied through symlinks as a regular file.
# A statically linked binary has none ("not a dynamic executable").
libs=$(ldd "$ETCD" 2>/dev/null | awk '/=>/ { if ($3 ~ /^\//) print $3; next } $1 ~ /^\// { print $1 }') || true
for lib in $libs; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

# Names the resolver and etcd look up; the engine mounts resolv.conf and hosts itself.
printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"

tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$work/rootfs.tar" .
# (podman reports progress on stderr, docker prints the id: only failures are shown)
"$ENGINE" import \
  --change 'CMD ["/usr/local/bin/etcd"]' \
  --change 'EXPOSE 2379' --change 'EXPOSE 2380' \
  --change "LABEL tf.etcd.sha256=$sum" \
  --change "LABEL tf.etcd.version=$version" \
  "$work/rootfs.tar" "$IMAGE" >/dev/null 2>"$work/import.err" ||
  { cat "$work/import.err" >&2; die "$ENGINE import failed"; }
# As in the published images: no entrypoint, the command starts with the binary's path.
"$ENGINE" image inspect "$IMAGE" >/dev/null || die "$ENGINE import gave no image $IMAGE"
echo "$IMAGE"
