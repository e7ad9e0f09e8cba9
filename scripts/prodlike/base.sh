#!/usr/bin/env bash
# The base image the Dockerfiles build FROM when no registry can be pulled from: Debian 12
# (bookworm) made by debootstrap from the Debian mirror this machine's apt already uses, with
# Debian's Python 3.11 (python3, python3-venv) and ca-certificates, imported into podman as
# localhost/loanops-base:bookworm. It stands in for python:3.11-slim-bookworm (same Debian release,
# same Python minor version, same LANG and PATH).
#
#   bash scripts/prodlike/base.sh            # builds it unless this recipe already did
#   bash scripts/prodlike/base.sh --rebuild  # builds it again (e.g. to pick up Debian updates)
#
# The image carries a label with the hash of this recipe: it is rebuilt only when the recipe changes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PODMAN=(bash "$HERE/podman.sh")
BASE_IMAGE="${LOANOPS_BASE_IMAGE:-localhost/loanops-base:bookworm}"
SUITE=bookworm
PACKAGES=python3,python3-venv,ca-certificates
RECIPE_LABEL=org.loanops.base.recipe

die() { echo "base.sh: $*" >&2; exit 1; }

# The recipe is this file without its comments: rewording a comment rebuilds nothing.
recipe="$(grep -v -E '^[[:space:]]*#' "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"
if [[ "${1:-}" != "--rebuild" ]]; then
    [[ $# -eq 0 ]] || die "unknown argument '$1' (the only option is --rebuild)"
    have="$("${PODMAN[@]}" image inspect --format "{{index .Labels \"$RECIPE_LABEL\"}}" \
        "$BASE_IMAGE" 2>/dev/null || true)"
    if [[ "$have" == "$recipe" ]]; then
        echo "base: $BASE_IMAGE is current (recipe $recipe)"
        exit 0
    fi
fi

for tool in debootstrap apt-get tar; do
    command -v "$tool" >/dev/null || die "$tool not found: run \`make install\` (scripts/install-system-deps.sh)"
done
[[ "$(id -u)" == 0 ]] || die "debootstrap needs root"

# The Debian repositories apt on this machine is configured with (sources.list or deb822
# .sources alike), as "URI suite" lines: bookworm itself plus its -updates and -security suites.
# shellcheck disable=SC2016 # apt-get expands $(REPO_URI) itself
repositories="$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' \
    | awk -v suite="$SUITE" '$2 == suite || $2 == suite "-updates" || $2 == suite "-security"' \
    | sort -u)"
mirror="$(awk -v suite="$SUITE" '$2 == suite { print $1; exit }' <<<"$repositories")"
[[ -n "$mirror" ]] || die "apt on this machine has no Debian $SUITE repository to debootstrap from (see /etc/apt/sources.list.d/)"

work="$REPO/data/prodlike/base"
rootfs="$work/rootfs"
# debootstrap mounts /proc (and more) inside the root file system while it works and may leave
# them mounted when it fails: unmount before removing, and never cross into another file system.
cleanup() {
    local mount
    for mount in dev/pts dev sys proc; do
        if mountpoint -q "$rootfs/$mount" 2>/dev/null; then umount -l "$rootfs/$mount"; fi
    done
    rm -rf --one-file-system "$work"
}
cleanup
mkdir -p "$work"
trap cleanup EXIT

start=$SECONDS
echo "base: debootstrap --variant=minbase $SUITE from the machine's Debian mirror (+ $PACKAGES)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    [[ ! -f "$rootfs/debootstrap/debootstrap.log" ]] || tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
}

# apt inside the image reads the same repositories as the host, written as deb822 like the
# official Debian images do; debootstrap's one-line sources.list would lack -updates/-security.
rm -f "$rootfs/etc/apt/sources.list"
while read -r uri suite; do
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' \
        "$uri" "$suite"
done <<<"$repositories" >"$rootfs/etc/apt/sources.list.d/debian.sources"
# Nothing downloaded stays in the image (the Dockerfiles fetch fresh lists themselves).
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
echo "base: debootstrap took $((SECONDS - start)) s"

start=$SECONDS
old="$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$BASE_IMAGE" 2>/dev/null || true)"
tar -C "$rootfs" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . \
    | "${PODMAN[@]}" import --quiet \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change "LABEL $RECIPE_LABEL=$recipe" \
        --change 'CMD ["python3"]' \
        - "$BASE_IMAGE" >/dev/null
echo "base: imported $BASE_IMAGE (recipe $recipe) in $((SECONDS - start)) s"
# The base this one replaces goes, unless images built on it still need its layers.
if [[ -n "$old" ]]; then "${PODMAN[@]}" rmi "$old" >/dev/null 2>&1 || true; fi
