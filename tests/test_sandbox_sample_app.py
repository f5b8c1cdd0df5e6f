"""The built-in sample app, reached through its gateway like any caller would."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from support.sandbox_helpers import m2m_token


@pytest.fixture(scope="module")
def api(sandbox_info):
    """A requests.Session authenticated as demo-sp, and the `hello` app's URL."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {m2m_token(sandbox_info)}"
    yield session, sandbox_info["apps"]["hello"]["url"]
    session.close()


def test_openapi_document_is_served_under_api_with_parameters_and_bodies(api):
    session, url = api

    doc = session.get(f"{url}/api/openapi.json", timeout=10).json()

    hello = doc["paths"]["/api/hello"]["get"]
    assert hello["summary"] == "Say hello"
    assert hello["parameters"][0]["name"] == "name"
    create = doc["paths"]["/api/items"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert doc["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]["required"] == ["name"]
    assert {"/api/echo", "/api/whoami", "/api/table", "/api/slow", "/api/large", "/api/status/{code}"} <= set(
        doc["paths"]
    )


def test_hello_greets_by_name(api):
    session, url = api

    assert (
        session.get(f"{url}/api/hello", params={"name": "Ada"}, timeout=10).json()["message"] == "Hello, Ada!"
    )


def test_items_crud_round_trip(api):
    session, url = api

    created = session.post(f"{url}/api/items", json={"name": "Lamp", "price": 12.5}, timeout=10)
    item_url = f"{url}/api/items/{created.json()['id']}"
    replaced = session.put(item_url, json={"name": "Desk lamp", "price": 14, "tags": ["home"]}, timeout=10)
    listed = session.get(f"{url}/api/items", timeout=10).json()
    deleted = session.delete(item_url, timeout=10)

    assert created.status_code == 201
    assert replaced.json() == {
        "id": created.json()["id"],
        "name": "Desk lamp",
        "price": 14.0,
        "tags": ["home"],
    }
    assert any(i["name"] == "Desk lamp" for i in listed)
    assert deleted.status_code == 204
    assert session.get(item_url, timeout=10).status_code == 404


def test_invalid_item_body_is_a_422_with_details(api):
    session, url = api

    response = session.post(f"{url}/api/items", json={"price": -1}, timeout=10)

    assert response.status_code == 422
    assert {e["loc"][-1] for e in response.json()["detail"]} == {"name", "price"}


def test_table_is_a_list_of_uniform_records(api):
    session, url = api

    rows = session.get(f"{url}/api/table", timeout=10).json()

    assert len(rows) == 20
    assert all(set(r) == set(rows[0]) for r in rows)


@pytest.mark.parametrize("rows", [0, 1, 50_000])
def test_large_returns_the_rows_asked_for(api, rows):
    session, url = api

    body = session.get(f"{url}/api/large", params={"rows": rows}, timeout=60).json()

    assert len(body) == rows
    assert rows == 0 or body[-1]["id"] == rows - 1


@pytest.mark.parametrize(("code", "has_body"), [(200, True), (418, True), (503, True), (204, False)])
def test_status_answers_with_any_code(api, code, has_body):
    session, url = api

    response = session.get(f"{url}/api/status/{code}", timeout=10)

    assert response.status_code == code
    assert (response.json()["status"] == code) if has_body else response.content == b""


def test_status_outside_the_http_range_is_a_400(api):
    session, url = api

    assert session.get(f"{url}/api/status/99", timeout=10).status_code == 400


def test_slow_records_concurrency(api):
    session, url = api
    token = session.headers["Authorization"]
    session.post(f"{url}/api/stats/reset", timeout=10)

    def slow(_: int) -> int:
        return requests.get(
            f"{url}/api/slow", params={"ms": 400}, headers={"Authorization": token}, timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(slow, range(6)))

    stats = session.get(f"{url}/api/stats", timeout=10).json()["slow"]
    assert statuses == [200] * 6
    assert stats["total"] == 6 and stats["active"] == 0
    assert stats["max_concurrent"] >= 2  # the gateway and the app serve calls side by side


def test_echo_and_whoami_mask_the_forwarded_token(sandbox_info):
    url = sandbox_info["apps"]["scoped"]["url"]
    headers = {"Authorization": f"Bearer {m2m_token(sandbox_info, scope='sql files.files')}"}

    echo = requests.get(f"{url}/api/echo", headers=headers, timeout=10).json()
    whoami = requests.get(f"{url}/api/whoami", headers=headers, timeout=10).json()

    masked = echo["headers"]["x-forwarded-access-token"]
    assert len(masked) == 8 and masked[4] == "…"
    assert len(whoami["access_token"]) == 8


def test_docs_page_sends_a_browser_without_session_to_sign_in(sandbox_info):
    response = requests.get(
        sandbox_info["apps"]["hello"]["url"] + "/api/docs", timeout=10, allow_redirects=False
    )

    assert response.status_code == 302
