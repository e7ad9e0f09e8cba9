"""The packaged model's `predict` follows the application contract, loaded and served by MLflow."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from loanops.schema import APPLICATION_COLUMNS, NAME_ALIASES, raw_name
from ml import packaging
from tests.serving import champion

CHAMPION_URI = f"models:/{champion.MODEL_NAME}@{champion.CHAMPION}"


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A small trained champion in its own MLflow store, loaded through the registry."""
    root = tmp_path_factory.mktemp("pyfunc")
    patch = pytest.MonkeyPatch()
    patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")  # undone after
    patch.setenv("LOANOPS_DATA_DIR", str(root / "data"))
    try:
        uri, _ = champion.register(root, seed=5)
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        model = mlflow.pyfunc.load_model(CHAMPION_URI)
        yield {"uri": uri, "root": root, "model": model, "env": {"MLFLOW_TRACKING_URI": uri}}
    finally:
        patch.undo()


def _example() -> pd.DataFrame:
    return packaging.input_example()


def _refusal(model: Any, frame: pd.DataFrame) -> str:
    """The message of the model's refusal of a frame, checking it is a 400-class refusal."""
    with pytest.raises(MlflowException) as refused:
        model.predict(frame)
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    assert refused.value.get_http_status_code() == 400
    return refused.value.message


def test_the_input_example_scores(registered):
    model = registered["model"]
    out = model.predict(model.input_example)
    assert list(out.columns) == ["pd", "class", "decision", "referral_reasons", "reasons"]
    assert len(out) == len(_example())
    # No column-based input schema drops columns before `predict` sees them.
    assert model.metadata.signature.inputs is None
    assert model.metadata.signature.outputs.input_names() == list(out.columns)


@pytest.mark.parametrize(
    ("published", "sent"),
    [
        ("Client_Income", "Client_Incme"),
        ("Credit_Amount", "credit_amnt"),
        ("Cleint_City_Rating", "Client_City_Ratng"),
        ("Score_Source_2", "score_source2"),
    ],
)
def test_a_misspelt_column_is_refused_with_the_published_name(registered, published, sent):
    frame = _example().rename(columns={published: sent})
    message = _refusal(registered["model"], frame)
    assert f"`{sent}` is not a field; did you mean `{published}`?" in message


def test_every_unknown_column_is_named(registered):
    frame = _example().assign(Client_Incme="6750", Default="1", favourite_colour="blue")
    message = _refusal(registered["model"], frame)
    assert "`Client_Incme` is not a field; did you mean `Client_Income`?" in message
    assert "`Default` is the outcome the model predicts, not part of an application" in message
    assert (
        "`favourite_colour` is not a field of an application "
        "(the model's input example lists the published fields)" in message
    )


def test_snake_case_and_alias_names_score_as_the_published_ones(registered):
    model = registered["model"]
    published = model.predict(_example())
    snake = _example().rename(columns=raw_name)
    assert set(snake.columns).isdisjoint(APPLICATION_COLUMNS)
    pd.testing.assert_frame_equal(model.predict(snake), published)
    aliased = _example().rename(columns={v: k for k, v in NAME_ALIASES.items()})
    assert "Client_City_Rating" in aliased.columns
    pd.testing.assert_frame_equal(model.predict(aliased), published)


def test_one_field_under_two_names_is_refused(registered):
    frame = _example().assign(Client_City_Rating="3")
    message = _refusal(registered["model"], frame)
    assert "`Client_City_Rating` and `Cleint_City_Rating` are the same field; send it once" in (
        message
    )


@pytest.mark.parametrize("frame", [pd.DataFrame(), pd.DataFrame([{}, {}])], ids=["empty", "rows"])
def test_a_frame_without_columns_is_refused_saying_what_is_expected(registered, frame):
    message = _refusal(registered["model"], frame)
    assert "Expected a frame of applications" in message and "`Client_Income`" in message


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port: int, records: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """POST records to /invocations; (status, JSON body)."""
    body = json.dumps({"dataframe_records": records}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_mlflow_models_serve_refuses_unknown_columns_and_reads_snake_case(registered, tmp_path):
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        **registered["env"],
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        [f"{bin_dir}/mlflow", "models", "serve", "-m", CHAMPION_URI, "--env-manager", "local",
         "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(1)
        records = [{k: v for k, v in r.items() if v is not None} for r in packaging.EXAMPLE_RECORDS]
        status, published = _post(port, records)
        assert status == 200, published
        snake = [{raw_name(k): v for k, v in r.items()} for r in records]
        status, answer = _post(port, snake)
        assert status == 200, answer
        assert answer["predictions"] == published["predictions"]
        misspelt = [{("Client_Incme" if k == "Client_Income" else k): v for k, v in r.items()}
                    for r in records]  # fmt: skip
        status, refused = _post(port, misspelt)
        assert status == 400, refused
        assert refused["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "`Client_Incme` is not a field; did you mean `Client_Income`?" in refused["message"]
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()
