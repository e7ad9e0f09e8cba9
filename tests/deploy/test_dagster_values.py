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


def _code_location() -> dict:
    (deployment,) = values()["dagster-user-deployments"]["deployments"]
    return deployment


def test_runs_sign_in_and_land_without_credentials() -> None:
    """Azure SQL by workload identity, landing files from Blob storage, settings in ConfigMaps."""
    deployment = _code_location()
    # Runs are launched with the code location's env, ConfigMaps and labels.
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    env = {e["name"]: e for e in deployment["env"]}
    assert env["LOANOPS_MSSQL_AUTH"]["value"] == "workload-identity"
    landing = env["LOANOPS_LANDING_URL"]["value"]
    assert landing.startswith(("abfs://", "az://")), landing
    assert not landing.startswith("/") and "/tmp" not in landing
    for item in deployment["env"]:
        assert "valueFrom" not in item, item  # no secretKeyRef, nothing from a Secret
    assert not deployment.get("envSecrets")
    assert {c["name"] for c in deployment["envConfigMaps"]} == {
        "loanops-dagster-config",
        "loanops-release",
    }
    launcher = values()["runLauncher"]["config"]["k8sRunLauncher"]
    assert not launcher.get("envSecrets")
    assert not launcher.get("env", launcher.get("envVars"))


def test_release_configmap_carries_what_the_deployment_asset_reads() -> None:
    """CD writes LOANOPS_API_IMAGE into loanops-release, the asset reads that very variable."""
    cd = (REPO / ".github" / "workflows" / "cd.yml").read_text()
    asset = (REPO / "orchestration" / "assets" / "deployment.py").read_text()
    assert 'IMAGE_SETTING = "LOANOPS_API_IMAGE"' in asset
    assert "kubectl create configmap loanops-release --namespace dagster" in cd
    assert '--from-literal=LOANOPS_API_IMAGE="${API_IMAGE}"' in cd
