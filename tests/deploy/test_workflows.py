"""The GitHub Actions workflows pass actionlint and do what the deployment story says: CI runs the
linters, the manifest validation and `make test`; CD signs in with OIDC, pins the image digest,
waits for the rollout, smoke-tests /readyz over HTTPS, rolls back on failure, and records the
released digest for Dagster's deployment asset only once the release is good."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.deploy.conftest import REPO, run, tool

WORKFLOWS = REPO / ".github" / "workflows"


def load(name: str) -> dict:
    """A workflow file; PyYAML reads the `on:` key as True, so it is renamed back."""
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True)
    return data


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def scripts(workflow: dict, job: str) -> str:
    return "\n".join(step.get("run", "") for step in steps(workflow, job))


def test_actionlint_passes() -> None:
    result = run(tool("actionlint"), "-no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    assert {"ci.yml", "cd.yml"} <= {p.name for p in WORKFLOWS.glob("*.yml")}


def test_actionlint_does_flag_a_broken_workflow(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "bad.yml").write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v5\n        with: {no-such-input: 1}\n"
        "      - run: echo ${{ github.no_such_context }}\n"
    )
    # actionlint finds the project by its .git folder.
    assert run("git", "init", "-q", cwd=tmp_path).returncode == 0
    result = run(tool("actionlint"), "-no-color", cwd=tmp_path)
    assert result.returncode != 0
    assert "no-such-input" in result.stdout


def test_actions_are_pinned_by_version() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for ref in re.findall(r"uses: (\S+)", path.read_text()):
            if ref.startswith("./"):
                continue
            assert re.search(r"@(v\d+(\.\d+)*|[0-9a-f]{40})$", ref), f"{path.name}: {ref}"


def test_ci_runs_every_check() -> None:
    ci = load("ci.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(ci["on"])
    assert ci["permissions"] == {"contents": "read"}
    body = scripts(ci, "test")
    for command in (
        "make lint",
        "make test",
        "hadolint Dockerfile Dockerfile.dagster",
        "actionlint",
        "kubectl kustomize k8s/overlays/aks",
        "kubernetes-validate --strict",
    ):
        assert command in body, command
    assert "1.30.0" in body


def test_cd_signs_in_with_oidc_only() -> None:
    cd = load("cd.yml")
    assert cd["on"]["push"]["branches"] == ["main"]
    assert cd["jobs"]["ci"]["uses"] == "./.github/workflows/ci.yml"
    text = (WORKFLOWS / "cd.yml").read_text()
    assert "secrets." not in text  # no client secret, no stored credentials at all
    for job in ("build", "deploy"):
        assert cd["jobs"][job]["permissions"]["id-token"] == "write"
        logins = [s for s in steps(cd, job) if s.get("uses", "").startswith("azure/login@")]
        assert len(logins) == 1
        assert set(logins[0]["with"]) == {"client-id", "tenant-id", "subscription-id"}


def test_cd_builds_pushes_and_deploys_by_digest() -> None:
    cd = load("cd.yml")
    builds = [s for s in steps(cd, "build") if s.get("uses", "").startswith("docker/build-push")]
    assert {b["with"]["file"] for b in builds} == {"Dockerfile", "Dockerfile.dagster"}
    assert all(b["with"]["push"] is True for b in builds)
    assert "@${{ steps.api.outputs.digest }}" in cd["jobs"]["build"]["outputs"]["api-image"]
    assert cd["jobs"]["build"]["outputs"]["dagster-digest"] == "${{ steps.dagster.outputs.digest }}"
    deploy = scripts(cd, "deploy")
    assert 'kustomize edit set image "loanops-api=${API_IMAGE}"' in deploy
    # CD fills in the MLflow URI and keeps the overlay's other settings (the sign-in mode).
    assert "grep -v '^MLFLOW_TRACKING_URI=' api.env" in deploy
    assert not re.search(r"> api\.env$", deploy, re.M)  # never overwritten whole
    # The rendered overlay is checked: the pushed digest twice (migrate, api), no other image.
    assert 'grep -c "image: ${API_IMAGE}$"' in deploy and "-eq 2" in deploy
    assert 'grep -v "@sha256:"' in deploy
    assert re.search(r"kubectl rollout status .*--timeout=\d+s", deploy)
    # The Dagster code location is pinned by digest too (tag <commit>@<digest>).
    assert "image.tag=${GITHUB_SHA}@${DAGSTER_DIGEST}" in deploy


def test_cd_smoke_tests_over_https_through_the_ingress() -> None:
    cd = load("cd.yml")
    (smoke,) = [s for s in steps(cd, "deploy") if s.get("id") == "smoke"]
    assert smoke["env"]["API_HOST"] == "${{ vars.API_HOST }}"
    assert "curl --fail" in smoke["run"] and "--proto '=https'" in smoke["run"]
    assert '"https://${API_HOST}/readyz"' in smoke["run"]
    assert "http://" not in smoke["run"] and "--insecure" not in smoke["run"]
    assert "loadBalancer" not in (WORKFLOWS / "cd.yml").read_text()


def test_cd_records_the_released_digest_only_after_a_good_release() -> None:
    cd = load("cd.yml")
    deploy = steps(cd, "deploy")
    ids = [s.get("id") for s in deploy]
    record = deploy[ids.index("record")]
    undo = next(s for s in deploy if "kubectl rollout undo" in s.get("run", ""))
    # After the smoke test and after the rollback step: a failed release skips it, and a failure
    # here cannot roll back a release that passed.
    assert ids.index("smoke") < ids.index("record")
    assert deploy.index(undo) < ids.index("record")
    assert "if" not in record  # runs only when every step before it succeeded
    assert record["env"]["API_IMAGE"] == "${{ needs.build.outputs.api-image }}"
    assert "configmap loanops-release --namespace dagster" in record["run"]
    assert "LOANOPS_API_IMAGE=" in record["run"]
    helm = next(s for s in deploy if "helm upgrade" in s.get("run", ""))
    assert deploy.index(helm) > ids.index("record")


def test_cd_rolls_back_when_rollout_or_smoke_test_fails() -> None:
    cd = load("cd.yml")
    deploy = steps(cd, "deploy")
    names = [s.get("id") for s in deploy]
    assert names.index("apply") < names.index("rollout") < names.index("smoke")
    (undo,) = [s for s in deploy if "kubectl rollout undo" in s.get("run", "")]
    assert undo["if"] == "failure() && steps.apply.outcome == 'success'"
    assert deploy.index(undo) > names.index("smoke")
