"""The application contract over HTTP: what is not an application is a 422 that says why."""

from __future__ import annotations

import re
import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanops.schema import APPLICATION_COLUMNS
from loanops.settings import REPO_ROOT
from serving.schemas import FIELD_NAMES
from tests.serving.conftest import API_KEY, AUTH
from tests.serving.samples import example

WRAPPED = {"application": {"Client_Income": "6750", "Credit_Amount": "61190.55"}}


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({}, "body", "at least one field"),
        (WRAPPED, "application", "not wrapped in `application`"),
        ({"Client_Incme": "6750", "Credit_Amount": "61190.55"}, "Client_Incme",
         "`Client_Incme` is not a field; did you mean `Client_Income`?"),
        ({"Child_Count": {"a": 1}}, "Child_Count",
         "`Child_Count` must be a number or text, got an object"),
        ([example(0)], "body", "got an array"),
        ([], "body", "got an array"),
        ("6750", "body", "got text"),
        ({"applications": [example(0)]}, "applications", "/v1/predictions/batch"),
        ({"Client_Income": 1, "client_income": 1}, "client_income", "the same field"),
        ({"Cleint_City_Rating": 2.6e-42}, "Cleint_City_Rating", "between 1 and 3"),
        ({"Child_Count": 2.7e307}, "Child_Count", "between 0 and 50"),
        ({"Child_Count": "77"}, "Child_Count", "between 0 and 50"),
    ],
)  # fmt: skip
def test_what_is_not_an_application_is_a_422_naming_each_problem(client, body, field, says):
    response = client.post("/v1/predictions", json=body, headers=AUTH)
    assert response.status_code == 422, response.json
    details = response.json["details"]
    assert [d["field"] for d in details] == [field]  # one error per field
    assert says in details[0]["message"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ([example(0)], ["body"]),
        ({"applications": {"Client_Income": 1}}, ["applications"]),
        ({"applications": []}, ["applications"]),
        ({"Client_Income": 1}, ["applications", "Client_Income"]),
        ({"applications": [example(0), 7, {}, {"Child_Count": 2.7e307}]},
         ["applications.1", "applications.2", "applications.3.Child_Count"]),
        ({"applications": [example(0), {"Child_Count": [1], "Client_Incme": 1}]},
         ["applications.1.Child_Count", "applications.1.Client_Incme"]),
    ],
)  # fmt: skip
def test_what_is_not_a_batch_is_a_422_naming_each_problem(client, body, fields):
    response = client.post("/v1/predictions/batch", json=body, headers=AUTH)
    assert response.status_code == 422, response.json
    assert [d["field"] for d in response.json["details"]] == fields


def test_the_correct_spelling_of_the_published_typo_is_the_same_field(client, app):
    published = example(0)
    spelt = {("Client_City_Rating" if k == "Cleint_City_Rating" else k): v
             for k, v in published.items()}  # fmt: skip
    a = client.post("/v1/predictions", json=published, headers=AUTH).json
    b = client.post("/v1/predictions", json=spelt, headers=AUTH).json
    assert a["probability_of_default"] == b["probability_of_default"]
    stored = client.get(f"/v1/predictions/{b['prediction_id']}", headers=AUTH).json
    assert stored["input_raw_data"]["Cleint_City_Rating"] == published["Cleint_City_Rating"]
    assert "Client_City_Rating" not in stored["input_raw_data"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(APPLICATION_COLUMNS),
    st.text(min_size=1, max_size=20).filter(lambda key: key not in FIELD_NAMES),
)
def test_renaming_any_field_to_an_unknown_name_is_a_422_naming_it(client, name, unknown):
    body = {(unknown if k == name else k): v for k, v in example(1).items()}
    response = client.post("/v1/predictions", json=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json["details"][0]["field"] == unknown
    assert f"`{unknown}` is not a field" in response.json["details"][0]["message"]


def test_batch_resource_advertises_only_its_methods(client):
    options = client.options("/v1/predictions/batch")
    assert set(options.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert client.get("/v1/predictions/batch", headers=AUTH).status_code == 405


def _readme_curls() -> list[list[str]]:
    """The curl commands of the README's API client section, as shell words."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## The API client", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    return [shlex.split(line) for line in block.splitlines() if line.startswith("curl ")]


def test_the_readme_examples_work_verbatim(client):
    curls = _readme_curls()
    assert len(curls) >= 4
    for words in curls:
        method, body, headers, path = "GET", None, {}, None
        words = iter(words[1:])
        for word in words:
            if word == "-X":
                method = next(words)
            elif word == "-d":
                body = next(words)
            elif word == "-H":
                name, value = next(words).split(": ", 1)
                headers[name] = value.replace("$KEY", API_KEY)
            elif word.startswith("$URL"):
                path = word.removeprefix("$URL")
        assert path and re.fullmatch(r"/[a-z0-9/]+", path), words
        response = client.open(path, method=method, data=body, headers=headers)
        assert response.status_code == 200, (path, body, response.get_data(as_text=True))
