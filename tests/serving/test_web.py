"""The loan officer form in headless Chromium: fill in, submit, read PD, decision and reasons."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.serving.conftest import API_KEY
from tests.serving.samples import example

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_officer_scores_an_application(live_url, data_dir, tmp_path):
    from playwright.sync_api import sync_playwright

    application = {k: v for k, v in example(0).items() if v is not None}
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=ARGS,
            headless=True,
        )  # fmt: skip
        try:
            page = browser.new_page()
            page.goto(live_url + "/")
            page.fill("#api_key", API_KEY)
            for name, value in application.items():
                page.fill(f"#f_{name}", str(value))
            page.click("#submit")
            page.wait_for_selector("#result:not([hidden])", timeout=30_000)
            pd_text = page.inner_text("#pd")
            decision = page.inner_text("#decision")
            reasons = page.locator("#reasons li").all_inner_texts()
            page.screenshot(path=str(data_dir / "officer-form.png"), full_page=True)
            page.fill("#f_Client_Income", "-3")
            page.click("#submit")
            page.wait_for_selector("#error:not([hidden])", timeout=30_000)
            error = page.inner_text("#error")
            marked = page.get_attribute("#f_Client_Income", "aria-invalid")
        finally:
            browser.close()
    assert pd_text.endswith("%") and 0 <= float(pd_text.rstrip(" %")) <= 100
    assert decision in ("approve", "decline")
    assert reasons and all(reasons)
    assert "`Client_Income` must be between 0 and 100000000" in error
    assert marked == "true"  # the offending input is marked too
    assert (data_dir / "officer-form.png").stat().st_size > 1000
