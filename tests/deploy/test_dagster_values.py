"""Values for the official Dagster Helm chart: the code location runs this repository's image,
every pod is restricted, and no credential is written in the file."""

from __future__ import annotations

import re

import yaml

from tests.deploy.conftest import REPO


def values() -> dict:
    return yaml.safe_load((REPO / "k8s" / "dagster" / "values.yaml").read_text())


def test_code_location_serves_the_image_module() -> None:
    (deployment,) = values()["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    module = args[args.index("--module-name") + 1]
    cmd = re.search(r"^CMD (.+)$", (REPO / "Dockerfile.dagster").read_text(), re.M).group(1)
    assert f'"--module-name", "{module}"' in cmd
    assert deployment["port"] == 3030 and '"--port", "3030"' in cmd
    assert deployment["image"]["repository"].endswith(".azurecr.io/loanops-dagster")
    assert deployment["labels"]["azure.workload.identity/use"] == "true"


def test_runs_are_kubernetes_jobs_with_restricted_pods() -> None:
    v = values()
    assert v["runLauncher"]["type"] == "K8sRunLauncher"
    run_config = v["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]
    pods = [
        v["dagsterWebserver"]["podSecurityContext"],
        v["dagsterDaemon"]["podSecurityContext"],
        v["dagster-user-deployments"]["deployments"][0]["podSecurityContext"],
        run_config["podSpecConfig"]["securityContext"],
    ]
    for pod in pods:
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 10001
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    containers = [
        v["dagsterWebserver"]["securityContext"],
        v["dagsterDaemon"]["securityContext"],
        run_config["containerConfig"]["securityContext"],
    ]
    for container in containers:
        assert container["allowPrivilegeEscalation"] is False
        assert container["capabilities"] == {"drop": ["ALL"]}


def test_no_credentials_in_values() -> None:
    v = values()
    assert v["postgresql"]["enabled"] is False
    assert "postgresqlPassword" not in v["postgresql"]
    assert v["generatePostgresqlPasswordSecret"] is False
    pg_secret = v["global"]["postgresqlSecretName"]
    assert pg_secret == "dagster-postgresql-secret"  # pragma: allowlist secret (a name)
    assert v["dagsterWebserver"]["service"]["type"] == "ClusterIP"
