# syntax=docker/dockerfile:1
# The scoring API image (serving/): gunicorn + Flask, only the serving dependencies
# (requirements/serving-lock.txt: mlflow-skinny, no Dagster, no dbt), ODBC Driver 18 for Azure SQL.
#
#   docker build -t loanops-api .
#   docker run --rm -p 8080:8080 -e LOANOPS_API_KEYS=... loanops-api
#
# Base: Python 3.11 slim on Debian 12, pinned by tag and by the digest of that tag's multi-arch
# index as published on Docker Hub (it could not be pulled where this file was written: a wrong
# digest fails the first `docker build` in CD loudly). Bump tag and digest together, e.g. with
# Renovate's docker manager or `docker buildx imagetools inspect python:3.11.13-slim-bookworm`.
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1

# ---- build: a virtual environment from the hashed lock, wheels only ----------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY requirements/serving-lock.txt /tmp/serving-lock.txt
# --require-hashes: every wheel is the one that was locked; --only-binary: no compiler needed.
# `python3` is the interpreter in both the official image (/usr/local/bin) and Debian's (/usr/bin).
# Behind a TLS-inspecting proxy the build is given the CA bundle as the secret "ca"
# (`--secret id=ca,src=...`): pip trusts it for this step only, and no layer keeps it.
RUN --mount=type=secret,id=ca \
    if [ -f /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-deps --require-hashes --only-binary=:all: \
        -r /tmp/serving-lock.txt \
    && /opt/venv/bin/pip check

# ---- code: the packages the API imports, byte-compiled -------------------------------------------
# A stage of its own so that a code change rebuilds one small layer of the runtime image and
# nothing else. Byte-compiled now because the root filesystem is read-only at run time;
# unchecked-hash .pyc files stay valid whatever timestamps the copies get.
FROM ${PYTHON_IMAGE} AS code
WORKDIR /app
COPY loanops/ loanops/
COPY ml/ ml/
COPY serving/ serving/
RUN python3 -m compileall -q --invalidation-mode unchecked-hash /app

# ---- runtime -------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# Debian packages, pinned (bump with the base image):
#   unixodbc          the ODBC driver manager pyodbc links against (libodbc.so.2)
#   odbcinst          the odbcinst tool that checks the driver registration (same source package)
#   libgssapi-krb5-2  needed by the Microsoft ODBC driver (Kerberos/Entra ID libraries)
#   libgomp1          OpenMP runtime that the LightGBM wheel does not bundle
ARG UNIXODBC_VERSION=2.3.11-2+deb12u1
ARG LIBGSSAPI_KRB5_VERSION=1.20.1-2+deb12u5
ARG LIBGOMP1_VERSION=12.2.0-14+deb12u1
# Where apt needs the build machine's own settings to reach its mirror (a proxy, say), the
# build is given them as the secret "apt", an apt.conf read for this step only. The user is a
# fixed numeric non-root one, so Kubernetes can check runAsNonRoot without a name lookup.
RUN --mount=type=secret,id=apt --mount=type=secret,id=ca \
    if [ -f /run/secrets/apt ]; then export APT_CONFIG=/run/secrets/apt; fi \
    && apt-get update \
    && apt-get install -y --no-install-recommends \
        "unixodbc=${UNIXODBC_VERSION}" \
        "odbcinst=${UNIXODBC_VERSION}" \
        "libgssapi-krb5-2=${LIBGSSAPI_KRB5_VERSION}" \
        "libgomp1=${LIBGOMP1_VERSION}" \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 loanops \
    && useradd --system --uid 10001 --gid loanops --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin loanops

COPY --from=build /opt/venv /opt/venv

# Register ODBC Driver 18, which the mssql-python-odbc wheel ships inside the venv, under the
# name SQLAlchemy's mssql+pyodbc URL asks for ("driver=ODBC Driver 18 for SQL Server").
# The build fails here if the wheel moves the library.
RUN driver_dir=/opt/venv/lib/python3.11/site-packages/mssql_python_odbc/libs/linux/debian_ubuntu/x86_64/lib \
    && driver="$(find "$driver_dir" -name 'libmsodbcsql-18.*.so.*' -print -quit)" \
    && test -n "$driver" \
    && printf '[ODBC Driver 18 for SQL Server]\nDescription=Microsoft ODBC Driver 18 for SQL Server\nDriver=%s\nUsageCount=1\n' \
        "$driver" > /etc/odbcinst.ini \
    && odbcinst -q -d -n "ODBC Driver 18 for SQL Server"

# Only the packages the API imports; owned by root, so the app user cannot change its own code.
WORKDIR /app
COPY --from=code /app /app

ARG VCS_REF=unknown
LABEL org.opencontainers.image.title="loanops-api" \
      org.opencontainers.image.description="Loan default scoring API (Flask under gunicorn)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="${VCS_REF}"

# Only /tmp needs to be writable (an emptyDir in k8s/base/deployment.yaml): the data folder
# (Prometheus multiprocess files, the embedded SQLite store when no URL is given), MLflow's model
# download and gunicorn's worker heartbeats. HOME points there for libraries that cache under ~.
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONPATH=/app \
    LOANOPS_DATA_DIR=/tmp/loanops \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    ODBCSYSINI=/etc \
    LOANOPS_MODEL_URI=models:/loan-default@champion

USER 10001:10001
EXPOSE 8080
# No HEALTHCHECK: Kubernetes ignores it; the Deployment probes /healthz and /readyz instead.
CMD ["gunicorn", "-c", "serving/gunicorn_conf.py", "serving.app:create_app()"]
