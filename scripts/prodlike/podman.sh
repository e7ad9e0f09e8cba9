#!/usr/bin/env bash
# podman as the production-shaped stack uses it on this machine: runc, cgroupfs (no systemd),
# scripts/prodlike/containers.conf, and overlay storage where the kernel lets this process mount
# an overlay file system (checked once per call, in a scratch folder), vfs otherwise. vfs copies
# the whole image for every build step and every container, which makes a cold build of the
# Dagster image several times slower; each driver keeps its own store, so switching loses nothing.
# Every caller (image builds, the stack, tests) goes through here, so all see the same images.
#
#   bash scripts/prodlike/podman.sh images
#   LOANOPS_PODMAN_STORAGE=vfs bash scripts/prodlike/podman.sh images   # force a driver
set -euo pipefail
CONTAINERS_CONF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf"
export CONTAINERS_CONF

overlay_mounts() { # true when an overlay mount works here
    local scratch ok=1
    scratch="$(mktemp -d)"
    mkdir -p "$scratch"/{lower,upper,work,merged}
    if mount -t overlay overlay \
        -o "lowerdir=$scratch/lower,upperdir=$scratch/upper,workdir=$scratch/work" \
        "$scratch/merged" 2>/dev/null; then
        umount "$scratch/merged"
        ok=0
    fi
    rm -rf "$scratch"
    return "$ok"
}

storage="${LOANOPS_PODMAN_STORAGE:-}"
if [[ -z "$storage" ]]; then
    if overlay_mounts; then storage=overlay; else storage=vfs; fi
fi
case "$storage" in
    overlay) store=(--storage-driver overlay --root /var/lib/containers/storage-overlay
        --runroot /run/containers/storage-overlay) ;;
    vfs) store=(--storage-driver vfs) ;;
    *) echo "podman.sh: LOANOPS_PODMAN_STORAGE must be overlay or vfs, got '$storage'" >&2; exit 2 ;;
esac
exec podman "${store[@]}" --runtime runc --cgroup-manager cgroupfs "$@"
