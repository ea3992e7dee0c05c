#!/usr/bin/env bash
# Builds Tailor's image, tailor:<package version>, with buildah and no container registry: the two
# bases the Containerfile starts from are made here from Debian packages (decision 0022).
#
#   localhost/tailor-base:<suite>                      debootstrap --variant=minbase: the runtime base
#   localhost/tailor-base:<suite>-node<version>-build  the same plus python3, make, g++ and this
#                                                      machine's Node 20 (binary, headers, npm): the
#                                                      build base
#
# Both are cached (by tag) and reused; --rebuild-base makes them again. npm's packages come from the
# npm registry into a cache on the host first (~/.cache/tailor/image/npm), and the build runs npm
# offline from it, so the build itself needs no network at all. Then the image is built, its size
# printed, and `tailor --version` and `tailor operator --help` are run inside it as a smoke test.
#
# With --operator KUBECONFIG it also runs the operator from the image's files the way the chart's
# pod does (uid 65532, read-only root, tmpfs at /tmp and /var/lib/tailor) for 20 s against that
# cluster (e.g. `tailor dev up`'s) and checks /readyz: the history store opens, the caches sync.
#
# Usage: scripts/build-image.sh [--rebuild-base] [--no-smoke] [--operator KUBECONFIG]   (as root)
# Env:   TAILOR_IMAGE_ISOLATION (chroot), TAILOR_IMAGE_SUITE (bookworm), TAILOR_IMAGE_MIRROR (apt's deb.debian.org),
#        TAILOR_IMAGE_CACHE (~/.cache/tailor/image), BUILDAH_FLAGS (e.g. "--storage-driver vfs")
set -euo pipefail

cd "$(dirname "$0")/.."
REBUILD_BASE=no
SMOKE=yes
OPERATOR_KUBECONFIG=
while [ $# -gt 0 ]; do
  case "$1" in
    --rebuild-base) REBUILD_BASE=yes ;;
    --no-smoke) SMOKE=no ;;
    --operator)
      OPERATOR_KUBECONFIG=$(readlink -f "${2:?--operator needs a kubeconfig file}")
      shift
      ;;
    *)
      echo "build-image: unknown argument '$1' (known: --rebuild-base, --no-smoke, --operator KUBECONFIG)" >&2
      exit 2
      ;;
  esac
  shift
done

VERSION=$(node -p 'require("./package.json").version')
NODE_VERSION=$(node -p 'process.versions.node')
SUITE=${TAILOR_IMAGE_SUITE:-bookworm}
MIRROR=${TAILOR_IMAGE_MIRROR:-http://deb.debian.org/debian}
CACHE=${TAILOR_IMAGE_CACHE:-$HOME/.cache/tailor/image}
# shellcheck disable=SC2206 # word splitting wanted: extra global flags for buildah
BUILDAH=(buildah ${BUILDAH_FLAGS:-})
# chroot: RUN steps without an OCI runtime. Here crun (Debian's buildah's runtime) refuses this
# kernel's hybrid cgroup v1/v2 layout ("cgroups in hybrid mode not supported"); chroot isolation
# needs no cgroups. TAILOR_IMAGE_ISOLATION=oci where the runtime works.
ISOLATION=${TAILOR_IMAGE_ISOLATION:-chroot}
RUNTIME_BASE=localhost/tailor-base:$SUITE
BUILD_BASE=localhost/tailor-base:$SUITE-node$NODE_VERSION-build
IMAGE=localhost/tailor:$VERSION

for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || {
    echo "build-image: '$tool' is missing: apt-get install buildah debootstrap" >&2
    exit 1
  }
done
[ "$(id -u)" = 0 ] || { echo "build-image: run as root (debootstrap and buildah mount need it)" >&2; exit 1; }
case "$NODE_VERSION" in
  20.*) ;;
  *) echo "build-image: this machine's node is $NODE_VERSION; the image is Node 20" >&2; exit 1 ;;
esac

mkdir -p "$CACHE/debs" "$CACHE/npm"
rootfs= ctr=
cleanup() {
  if [ -n "$rootfs" ]; then rm -rf "$rootfs"; fi
  if [ -n "$ctr" ]; then "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
started=$(date +%s)
say() { printf 'build-image [%4ss] %s\n' "$(($(date +%s) - started))" "$*"; }
has_image() { "${BUILDAH[@]}" inspect --type image "$1" >/dev/null 2>&1; }

# A Debian root filesystem, committed as an image: debootstrap into a temporary directory (its .debs
# kept in $CACHE/debs for the next run), optional extra steps in a chroot, caches and docs removed,
# then copied into a `buildah from scratch` container.
make_base() {
  local tag=$1 include=$2 extra=$3
  rootfs=$(mktemp -d /var/tmp/tailor-rootfs.XXXXXX)
  say "debootstrap $SUITE (minbase${include:+, +$include}) from $MIRROR"
  debootstrap --variant=minbase ${include:+--include="$include"} --cache-dir="$CACHE/debs" \
    "$SUITE" "$rootfs" "$MIRROR" >"$CACHE/debootstrap-${tag##*:}.log" 2>&1 || {
    tail -20 "$CACHE/debootstrap-${tag##*:}.log" >&2
    exit 1
  }
  if [ -n "$extra" ]; then "$extra" "$rootfs"; fi
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/*.log \
    "$rootfs"/var/log/apt/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/tmp/* "$rootfs"/var/tmp/*
  # The packages in it, for the record (the mirror moves with point releases).
  chroot "$rootfs" dpkg-query -W -f '${Package} ${Version}\n' >"$CACHE/${tag##*:}.packages"
  local mnt
  ctr=$("${BUILDAH[@]}" from scratch)
  mnt=$("${BUILDAH[@]}" mount "$ctr")
  tar -C "$rootfs" --numeric-owner -cf - . | tar -C "$mnt" --numeric-owner -xpf -
  "${BUILDAH[@]}" umount "$ctr" >/dev/null
  "${BUILDAH[@]}" config --os linux --arch amd64 \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash \
    --label org.opencontainers.image.description="Debian $SUITE minbase (debootstrap) for Tailor" "$ctr"
  "${BUILDAH[@]}" commit --rm --quiet "$ctr" "$tag" >/dev/null
  ctr=
  rm -rf "$rootfs"
  rootfs=
  say "base $tag committed ($("${BUILDAH[@]}" images --format '{{.Size}}' "$tag"))"
}

# Node for the build base: the Node 20 this machine runs (bookworm's nodejs is 18, nodejs.org is not
# reachable, and NodeSource's repository neither), copied in: the binary (glibc, libstdc++ and
# libgcc only, all in the base), its headers (node-gyp's nodedir) and npm.
add_node() {
  local rootfs=$1 node
  node=$(readlink -f "$(command -v node)")
  [ "$node" = /usr/bin/node ] || { echo "build-image: expected node in /usr/bin, found $node" >&2; exit 1; }
  tar -C / -cf - usr/bin/node usr/include/node usr/lib/node_modules/npm | tar -C "$rootfs" -xpf -
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/bin/npx"
  say "added this machine's node $(chroot "$rootfs" node -v) and npm $(chroot "$rootfs" npm -v) to the build base"
}

if [ "$REBUILD_BASE" = yes ] || ! has_image "$RUNTIME_BASE"; then
  make_base "$RUNTIME_BASE" "" ""
else
  say "base $RUNTIME_BASE cached"
fi
if [ "$REBUILD_BASE" = yes ] || ! has_image "$BUILD_BASE"; then
  make_base "$BUILD_BASE" python3,make,g++,ca-certificates add_node
else
  say "base $BUILD_BASE cached"
fi

# npm's cache, filled from the registry on the host (which can reach it) with exactly the lockfile.
# Skipped when the cache was filled for this very lockfile.
lock=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$CACHE/npm.lock-sha256" 2>/dev/null)" != "$lock" ]; then
  say "npm packages into $CACHE/npm"
  npmdir=$(mktemp -d /var/tmp/tailor-npm.XXXXXX)
  cp package.json package-lock.json "$npmdir/"
  (cd "$npmdir" && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund --cache "$CACHE/npm" >/dev/null)
  rm -rf "$npmdir"
  echo "$lock" >"$CACHE/npm.lock-sha256"
else
  say "npm packages cached for this lockfile"
fi

say "buildah build $IMAGE"
built=$(date +%s)
"${BUILDAH[@]}" build --layers --force-rm --pull=never --isolation "$ISOLATION" \
  --build-arg BASE="$BUILD_BASE" --build-arg RUNTIME_BASE="$RUNTIME_BASE" \
  --build-arg npm_config_offline=true --volume "$CACHE/npm:/root/.npm" \
  -t "$IMAGE" -f Containerfile . >"$CACHE/build.log" 2>&1 || {
  tail -30 "$CACHE/build.log" >&2
  exit 1
}
size=$("${BUILDAH[@]}" images --format '{{.Size}}' "$IMAGE")
say "built $IMAGE in $(($(date +%s) - built))s: $size (the image id: $("${BUILDAH[@]}" images -q "$IMAGE"))"

if [ "$SMOKE" = yes ]; then
  # As the image's own user, with its entrypoint: the version, then the operator's help.
  ctr=$("${BUILDAH[@]}" from --pull=never "$IMAGE")
  say "tailor --version: $("${BUILDAH[@]}" run --isolation "$ISOLATION" "$ctr" -- /usr/local/bin/node /app/bin/tailor.js --version)"
  "${BUILDAH[@]}" run --isolation "$ISOLATION" "$ctr" -- /usr/local/bin/node /app/bin/tailor.js operator --help | head -5
  say "uid in the image: $("${BUILDAH[@]}" run --isolation "$ISOLATION" "$ctr" -- id -u)"
fi
# The operator as the chart runs it, in a private mount namespace: the image's merged files bound
# read-only at a fresh root, tmpfs (owned by 65532) where the chart has emptyDirs, /proc and /dev.
# The network is the host's, so a loopback apiserver is reachable.
run_operator() {
  local kubeconfig=$1 merged root
  [ -n "$ctr" ] || ctr=$("${BUILDAH[@]}" from --pull=never "$IMAGE")
  merged=$("${BUILDAH[@]}" mount "$ctr")
  root=$(mktemp -d /var/tmp/tailor-ro.XXXXXX)
  say "operator from the image, read-only root, uid 65532, against $kubeconfig"
  rootfs=$root # removed by cleanup if the run fails
  unshare -m --propagation private bash -s "$merged" "$root" "$kubeconfig" <<'RUN'
set -euo pipefail
merged=$1 root=$2 kubeconfig=$3 addr=127.0.0.1:18480
mount --bind "$merged" "$root" && mount -o remount,bind,ro "$root"
mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev"
mount -t tmpfs -o uid=65532,gid=65532,size=64m tmpfs "$root/tmp"
mount -t tmpfs -o uid=65532,gid=65532,size=256m tmpfs "$root/var/lib/tailor"
install -o 65532 -g 65532 -m 0600 "$kubeconfig" "$root/tmp/kubeconfig"
if touch "$root/app/probe" 2>/dev/null; then echo "the root filesystem is writable" >&2; exit 1; fi
cd "$root"
timeout 20 chroot --userspec=65532:65532 "$root" env -i PATH=/usr/local/bin:/usr/bin:/bin \
  NODE_ENV=production HOME=/tmp /usr/local/bin/node /app/bin/tailor.js operator \
  --history=/var/lib/tailor/history.db --kubeconfig /tmp/kubeconfig --metrics-addr "$addr" \
  --leader-elect=false --log-format text &
pid=$!
ready=no
for i in $(seq 1 19); do
  sleep 1
  if [ "$(curl -sf "http://$addr/readyz" 2>/dev/null)" = ok ]; then ready="yes, after ${i}s"; break; fi
done
wait "$pid" || true
echo "readyz: $ready; /var/lib/tailor: $(cd "$root/var/lib/tailor" && echo *)"
[ "$ready" != no ]
RUN
  rmdir "$root"
  rootfs=
}
if [ -n "$OPERATOR_KUBECONFIG" ]; then run_operator "$OPERATOR_KUBECONFIG"; fi
say "done: $IMAGE ($size)"
