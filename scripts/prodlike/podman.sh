#!/usr/bin/env bash
# podman as the production-shaped stack uses it on this machine: vfs storage (no overlay
# filesystem inside a container), runc, cgroupfs (no systemd), and scripts/prodlike/containers.conf.
# Every caller (image builds, the stack, tests) goes through here, so all see the same images.
#
#   bash scripts/prodlike/podman.sh images
set -euo pipefail
CONTAINERS_CONF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf"
export CONTAINERS_CONF
exec podman --storage-driver vfs --runtime runc --cgroup-manager cgroupfs "$@"
