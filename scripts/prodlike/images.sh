#!/usr/bin/env bash
# Build the project's images with podman from the repository's own Dockerfiles, on the local
# Debian base (scripts/prodlike/base.sh) instead of the registry's python image:
#
#   localhost/loanops-api:dev      Dockerfile           (the API pods)
#   localhost/loanops-dagster:dev  Dockerfile.dagster   (the Dagster code location and its runs)
#
#   bash scripts/prodlike/images.sh              # base + both images
#   bash scripts/prodlike/images.sh api          # base + the API image only
#
# Idempotent and cached: the base is rebuilt only when its recipe changes; an image whose inputs
# (its Dockerfile, .dockerignore, the base and every file its COPY steps read) are those of the
# build that made it is left as it is, without calling podman build at all: with vfs storage even
# a fully cached build copies the image once per step and deletes the copies (many minutes). Each
# image carries a second tag naming its inputs' digest (localhost/loanops-api:inputs-<digest>),
# so any clone with the same sources finds it (a --label would defeat podman's cache in
# multi-stage builds). Otherwise podman's layer cache skips every step whose inputs did not change.
# Concurrent callers (the stack script, the tests) wait for each other.
#
# The build reaches the package index and the Debian mirror with this machine's own settings,
# given to the build as secrets, never written into a layer: the CA bundle ($SSL_CERT_FILE) as
# "ca" and apt's proxy and repository-check settings as "apt" (an apt.conf).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PODMAN=(bash "$HERE/podman.sh")
BASE_IMAGE="${LOANOPS_BASE_IMAGE:-localhost/loanops-base:bookworm}"
export LOANOPS_BASE_IMAGE="$BASE_IMAGE"
STATE="$REPO/data/prodlike"

declare -A DOCKERFILE=([api]=Dockerfile [dagster]=Dockerfile.dagster)
declare -A IMAGE=([api]=localhost/loanops-api:dev [dagster]=localhost/loanops-dagster:dev)

die() { echo "images.sh: $*" >&2; exit 1; }

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(api dagster)
for target in "${targets[@]}"; do
    [[ -n "${DOCKERFILE[$target]:-}" ]] || die "unknown image '$target' (choose from: api dagster)"
done
command -v podman >/dev/null || die "podman not found: run \`make install\` (scripts/install-system-deps.sh)"

mkdir -p "$STATE/logs"
exec 9>"$STATE/images.lock"
flock 9

total=$SECONDS
bash "$HERE/base.sh"

# Build-time access, in a private folder removed on exit.
access="$(mktemp -d "$STATE/build-access.XXXXXX")"
trap 'rm -rf "$access"' EXIT
secrets=()
ca="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
if [[ -f "$ca" ]]; then
    secrets+=(--secret "id=ca,src=$ca")
fi
# apt's settings for reaching its repositories (proxies, per-host options, the Release-date
# checks a mirror snapshot may need); CAInfo points at the "ca" secret when a repository is https.
{
    apt-config dump 2>/dev/null \
        | grep -E '^Acquire::(http|https|ftp|socks|Check-Valid-Until|Check-Date|Retries)( |::)' || true
    # shellcheck disable=SC2016 # apt-get expands $(REPO_URI) itself
    if [[ -f "$ca" ]] && apt-get indextargets --format '$(REPO_URI)' 2>/dev/null | grep -q '^https:'; then
        echo 'Acquire::https::CAInfo "/run/secrets/ca";'
    fi
} >"$access/apt.conf"
secrets+=(--secret "id=apt,src=$access/apt.conf")

base_id="$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$BASE_IMAGE")"

inputs() { # target: a digest of everything the build of its image reads
    local dockerfile="$REPO/${DOCKERFILE[$1]}" sources
    # The build-context paths the Dockerfile COPYs (COPY --from copies from a stage instead).
    mapfile -t sources < <(awk 'toupper($1) == "COPY" && $2 !~ /^--from=/ {
        for (i = 2; i < NF; i++) if ($i !~ /^--/) print $i }' "$dockerfile")
    {
        echo "base $base_id"
        cd "$REPO"
        sha256sum "${DOCKERFILE[$1]}" .dockerignore
        # What .dockerignore keeps out of every COPY source here: byte code.
        find "${sources[@]}" -type f ! -path '*/__pycache__/*' ! -name '*.py[cod]' -print0 |
            LC_ALL=C sort -z | xargs -0 sha256sum
    } | sha256sum | cut -c1-16
}

for target in "${targets[@]}"; do
    image="${IMAGE[$target]}"
    log="$STATE/logs/build-$target.log"
    want="$(inputs "$target")"
    inputs_tag="${image%:*}:inputs-$want"
    old="$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
    built="$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$inputs_tag" 2>/dev/null || true)"
    if [[ -n "$built" ]]; then
        [[ "$built" == "$old" ]] || "${PODMAN[@]}" tag "$inputs_tag" "$image"
        echo "$target: $image ${built:0:12} is current (inputs $want)"
        continue
    fi
    echo "$target: podman build -f ${DOCKERFILE[$target]} -t $image (base $BASE_IMAGE; log $log)"
    start=$SECONDS
    if ! "${PODMAN[@]}" build \
        --file "$REPO/${DOCKERFILE[$target]}" \
        --tag "$image" \
        --layers \
        --pull=never \
        --network host \
        --build-arg "PYTHON_IMAGE=$BASE_IMAGE" \
        "${secrets[@]}" \
        "$REPO" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "building $image failed (full log: $log)"
    fi
    steps="$(grep -c -E '^(\[[0-9]+/[0-9]+\] )?STEP [0-9]+/' "$log" || true)"
    cached="$(grep -c '^--> Using cache' "$log" || true)"
    new="$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$image")"
    size="$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$image")"
    echo "$target: $image ${new:0:12} ($((size / 1000000)) MB), $steps steps, $cached from cache, $((SECONDS - start)) s"
    # One inputs tag per image: the replaced image's goes, this one's names what it was built from.
    while read -r tag; do
        if [[ "$tag" == "${image%:*}:inputs-"* ]]; then "${PODMAN[@]}" untag "$tag" "$tag"; fi
    done < <("${PODMAN[@]}" images --format '{{.Repository}}:{{.Tag}}' "${image%:*}")
    "${PODMAN[@]}" tag "$image" "$inputs_tag"
    # The image this one replaces, and its layers no other image uses (vfs keeps a full copy of
    # each): removed unless a container still runs it.
    if [[ -n "$old" && "$old" != "$new" ]]; then
        "${PODMAN[@]}" rmi "$old" >/dev/null 2>&1 || true
    fi
done
echo "images: done in $((SECONDS - total)) s"
