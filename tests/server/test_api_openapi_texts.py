"""The OpenAPI texts read well: articles, and list routes that explain their parameters and
errors."""

from __future__ import annotations

import re

import pytest
from api_helpers import API, TestClient

from accunode_cli.server import create_app


@pytest.fixture
def operations(settings) -> dict[tuple[str, str], dict]:
    with TestClient(create_app(settings)) as client:
        schema = client.get(f"{API}/openapi.json").json()
    return {
        (method, path.removeprefix(API)): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def test_no_a_before_a_vowel(operations) -> None:
    for key, operation in operations.items():
        for text in (operation.get("summary", ""), operation.get("description", "")):
            assert not re.search(r"\b[Aa] (annual|[aeio]\w)", text), (key, text)
    assert operations[("post", "/predictions/annual")]["summary"] == (
        "Score and store an annual prediction"
    )
    assert operations[("post", "/predictions/quarterly")]["summary"] == (
        "Score and store a quarterly prediction"
    )


LIST_ROUTES = [("get", "/companies"), ("get", "/predictions/annual"),
               ("get", "/predictions/quarterly")]  # fmt: skip


@pytest.mark.parametrize("key", LIST_ROUTES, ids=lambda key: key[1])
def test_list_routes_explain_their_parameters_and_errors(operations, key) -> None:
    operation = operations[key]
    query = [p["name"] for p in operation["parameters"] if p["in"] == "query"]
    assert {"sort", "page", "size"} <= set(query)
    for name in query:
        assert f"`{name}`" in operation["description"], (key, name)
    responses = operation["responses"]
    assert "sort" in responses["400"]["description"]
    assert "size above 100" in responses["422"]["description"]
    for code in ("400", "422"):
        schema = responses[code]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/ErrorEnvelope")
