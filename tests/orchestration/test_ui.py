"""The Dagster UI, started like `dagster dev` does from the repository root, shows the lineage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from loanops import settings as settings_module
from loanops.settings import REPO_ROOT
from orchestration.home import ensure_home
from tests.orchestration.conftest import free_port

WEBSERVER = str(Path(sys.executable).parent / "dagster-webserver")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOT = REPO_ROOT / "data" / "screenshots" / "dagster-lineage.png"  # data/ is ignored


def _wait_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster-webserver exited:\n{log.read_text()[-4000:]}")
        try:
            urllib.request.urlopen(f"{url}/server_info", timeout=2)
            return
        except OSError:
            time.sleep(1)
    pytest.fail(f"dagster-webserver did not answer in {seconds} s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def dagster_ui(orchestration_env: Path, tmp_path: Path) -> Iterator[str]:
    """dagster-webserver on a free loopback port, loading workspace.yaml, with its own home."""
    settings_home = ensure_home(settings_module.load())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "webserver.log"
    env = {**os.environ, "DAGSTER_HOME": str(settings_home)}
    with log.open("w") as out:
        process = subprocess.Popen(
            [WEBSERVER, "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_up(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _dismiss_first_run_popup(url: str) -> None:
    """The community pop-up shows until the instance records that it was seen."""
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": "mutation { setNuxSeen }"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.load(response)["data"]["setNuxSeen"] is True


def test_lineage_shows_the_layers_and_the_model(dagster_ui):
    from playwright.sync_api import expect, sync_playwright

    _dismiss_first_run_popup(dagster_ui)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{dagster_ui}/asset-groups")
            # Collapsed, each group is one node of the graph (and one entry in the sidebar).
            # Dagster's MiddleTruncate also renders each label in a hidden measuring <div>, so
            # the first or last match can be that copy: take a visible one.
            for group in ("raw", "bronze", "silver", "gold", "model", "serving"):
                expect(
                    page.get_by_text(group, exact=True).filter(visible=True).last
                ).to_be_visible()
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            # The model group's own graph: the champion and its neighbours as asset nodes.
            page.goto(f"{dagster_ui}/locations/loanops/asset-groups/model")
            for asset in ("challenger", "champion", "batch_scores"):
                expect(
                    page.get_by_text(asset, exact=True).filter(visible=True).first
                ).to_be_visible()
            page.screenshot(path=str(SCREENSHOT.with_name("dagster-model-group.png")))
        finally:
            browser.close()
