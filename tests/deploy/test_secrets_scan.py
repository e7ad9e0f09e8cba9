"""A secrets scan of every file git tracks (detect-secrets, pinned in requirements/dev-lock.txt)
finds nothing, and the scan is shown to find a planted secret with the same settings."""

from __future__ import annotations

import json
from pathlib import Path

from tests.deploy.conftest import REPO, run, tool

# Kubernetes manifests *name* secrets (`secretName: loanops-api-secrets`), which the keyword
# detector reads as a value. Only such lines are excused, and only when the value is a plain
# lowercase Kubernetes name, so a real credential on a line like these is still reported.
NAME_REFERENCE = (
    r"^\s*-?\s*(secretName|postgresqlSecretName|secretProviderClass): *\"?[a-z0-9-]+\"?$"
)

# Findings reviewed by a person and judged not to be secrets, by file and the SHA-1 that
# detect-secrets reports for the value (the value itself is not repeated here). Anything else the
# scan finds fails the test; add an entry only with the reason beside it.
# API_KEY of the serving tests: a fixed key the test app is configured with, nothing real.
SERVING_TEST_KEY_SHA1 = "ea7543b7ff2910fdb427ddc992ee2c5677f86a26"  # pragma: allowlist secret
# Azurite's one built-in account key, published in Azurite's own documentation: the emulator
# accepts nothing else, so it protects nothing.
AZURITE_KEY_SHA1 = "726684b05966cd486e3461450ac94907c0b6709a"  # pragma: allowlist secret
AUDITED = {
    ("tests/serving/conftest.py", SERVING_TEST_KEY_SHA1),
    ("tests/azurite_server.py", AZURITE_KEY_SHA1),
}


def scan(folder: Path, *, excuse_names: bool = True) -> dict[str, list[dict]]:
    """`detect-secrets scan` over the git-tracked files of a folder; its findings by file."""
    options = ["--exclude-lines", NAME_REFERENCE] if excuse_names else []
    # data/ is git-ignored run-time state (a container root file system among it), never source.
    options += ["--exclude-files", r"^data/"]
    result = run(tool("detect-secrets"), "scan", *options, cwd=folder)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["results"]


def test_repository_has_no_secrets() -> None:
    findings = scan(REPO)
    report = [
        (path, f["type"], f["line_number"])
        for path, found in findings.items()
        for f in found
        if (path, f["hashed_secret"]) not in AUDITED
    ]
    assert report == []


def test_scan_finds_planted_secrets(tmp_path: Path) -> None:
    # Assembled at run time so that this file itself holds no secret-looking literal.
    aws_key = "AKIA" + "Z7QW3ERT5YU8IOPA"
    password = "Xk9" + "vR2mQ7pL4wZ"  # pragma: allowlist secret
    api_key = "Qp7" + "Lm2Vx9Tz4Ka"  # pragma: allowlist secret
    (tmp_path / "settings.yaml").write_text(
        f"aws_access_key_id: {aws_key}\n"
        f"password: {password}\n"
        f"api_key: {api_key}\n"
        "secretName: loanops-api-secrets\n"
    )
    assert run("git", "init", "-q", cwd=tmp_path).returncode == 0
    assert run("git", "add", "settings.yaml", cwd=tmp_path).returncode == 0

    def lines(**options: bool) -> list[tuple[str, int]]:
        found = scan(tmp_path, **options)["settings.yaml"]
        return sorted((f["type"], f["line_number"]) for f in found)

    assert lines(excuse_names=False) == [
        ("AWS Access Key", 1),
        ("Secret Keyword", 2),
        ("Secret Keyword", 3),
        ("Secret Keyword", 4),
    ]
    # The exclusion excuses the name reference and nothing else.
    assert lines() == [("AWS Access Key", 1), ("Secret Keyword", 2), ("Secret Keyword", 3)]
