"""history.py: the session's exchanges as a table and as CSV / JSON / HAR 1.2, with every secret redacted."""

from __future__ import annotations

import base64
import csv
import io
import json
import secrets
import threading
from datetime import datetime

import jwt
import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from explorer.history import History, to_har
from explorer.model import AuthInfo, Exchange, Finding, RequestSpec, Response
from explorer.redact import Redactor, mask
from explorer.serialize import exchange_to_dict
from explorer.tokens import decode_token

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
APP = "https://hello-1234567890.aws.databricksapps.com"
WORKSPACE = "https://adb-123.4.azuredatabricks.net"
STARTED = 1_800_000_000.25


def mint(**claims) -> str:
    base = {"iss": f"{WORKSPACE}/oidc", "sub": "alice@example.com", "client_id": "databricks-cli"}
    base.update(
        scope="all-apis", iat=int(STARTED), exp=int(STARTED) + 3600, jti=secrets.token_hex(8), **claims
    )
    return jwt.encode(base, KEY, algorithm="RS256", headers={"typ": "at+jwt"})


class Secrets:
    """Real-looking credentials, fresh for every test."""

    def __init__(self) -> None:
        self.token = mint()
        self.forwarded = mint(sub="bob@example.com")
        self.client_secret = "dose" + secrets.token_hex(16)
        self.pat = "dapi" + secrets.token_hex(16)
        self.code = secrets.token_urlsafe(32)

    def all(self) -> list[str]:
        return [self.token, self.forwarded, self.client_secret, self.pat, self.code]


def response(status: int = 200, body: bytes = b'{"ok": true}', **fields) -> Response:
    values = {
        "status": status,
        "reason": "OK" if status == 200 else "Error",
        "headers": [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        "body": body,
        "size": len(body),
        "elapsed_ms": 120.4,
        "ttfb_ms": 80.2,
        "content_type": "application/json",
        "kind": "json",
    }
    values.update(fields)
    if values["kind"] == "json" and "json" not in fields and not values.get("truncated"):
        values["json"] = json.loads(body)
    return Response(**values)


def leaky_exchange(s: Secrets, exchange_id: str = "ex-1") -> Exchange:
    """An exchange where secrets show up everywhere a careless sender or app could put them."""
    echo = {
        "headers": {"x-forwarded-access-token": s.forwarded, "authorization": f"Bearer {s.token}"},
        "access_token": s.token,
        "note": f"your PAT {s.pat}",
    }
    body = json.dumps(echo).encode()
    return Exchange(
        id=exchange_id,
        started_at=STARTED,
        request=RequestSpec(
            method="POST",
            url=f"{APP}/api/echo?code={s.code}",
            params=[("page", "2"), ("access_token", s.token)],
            headers=[("Authorization", f"Bearer {s.token}"), ("Content-Type", "application/json")],
            body=json.dumps({"client_secret": s.client_secret, "name": "widget"}),
        ),
        response=response(
            body=body,
            headers=[("Content-Type", "application/json"), ("Set-Cookie", f"session={s.code}; Path=/")],
            location=f"{WORKSPACE}/oidc/v1/authorize?code={s.code}",
        ),
        auth=AuthInfo(
            method="m2m",
            source=f"service principal from env (secret {s.client_secret})",
            host=WORKSPACE,
            identity="7b1f3c2a-5d4e",
            details={"client_secret": s.client_secret, "client_id": "7b1f3c2a-5d4e"},
        ),
        token=decode_token(s.token, ["sql"]),
        findings=[Finding("SCOPE_MISSING", "warning", f"token {s.token} lacks sql", "ask for sql")],
        error=None,
    )


def failed_exchange(s: Secrets) -> Exchange:
    return Exchange(
        id="ex-2",
        started_at=STARTED + 5,
        request=RequestSpec(url=f"{APP}/api/slow", headers=[("Authorization", f"Bearer {mask(s.token)}")]),
        response=None,
        auth=AuthInfo(method="token", source="pasted token"),
        token=None,
        findings=[Finding("TIMEOUT", "error", "no answer within 30 s", "raise the timeout")],
        error=f"Read timed out (sent {s.pat})",
    )


@pytest.fixture
def creds() -> Secrets:
    return Secrets()


@pytest.fixture
def history(creds) -> History:
    # The session's redactor knows the credentials it handled; the patterns catch the rest.
    h = History(Redactor([creds.client_secret, creds.code]))
    h.add(leaky_exchange(creds))
    h.add(failed_exchange(creds))
    return h


@pytest.mark.parametrize("fmt", ["csv", "json", "har"])
def test_no_secret_survives_any_export(history, creds, fmt):
    name, text = history.export(fmt)
    assert name.startswith("explorer-history-") and name.endswith(f".{fmt}")
    for secret in creds.all():
        assert secret not in text, (fmt, secret[:8])


def test_no_secret_survives_the_table_or_the_call_json(history, creds):
    shown = history.rows().to_csv() + json.dumps(
        [exchange_to_dict(ex, history.redactor) for ex in history.exchanges()]
    )
    for secret in creds.all():
        assert secret not in shown


def test_even_without_a_session_redactor_tokens_pats_and_credential_fields_are_masked(creds):
    out = exchange_to_dict(leaky_exchange(creds))
    # Only free text that merely mentions a secret (auth.source here) needs the session's redactor.
    out["auth"].pop("source")
    text = json.dumps(out, ensure_ascii=False)
    for secret in creds.all():
        assert secret not in text


def test_rows_have_the_documented_columns_and_types(history):
    rows = history.rows()
    assert list(rows.columns) == [
        "id",
        "time",
        "method",
        "url",
        "status",
        "elapsed_ms",
        "size",
        "auth",
        "identity",
    ]
    first, second = rows.iloc[0], rows.iloc[1]
    assert first["id"] == "ex-1" and first["method"] == "POST" and first["status"] == 200
    assert first["time"] == datetime.fromtimestamp(STARTED).strftime("%Y-%m-%d %H:%M:%S")
    assert first["url"].startswith(f"{APP}/api/echo?code=") and "page=2" in first["url"]
    assert (first["elapsed_ms"], first["auth"], first["identity"]) == (120.4, "m2m", "7b1f3c2a-5d4e")
    assert pd.isna(second["status"]) and pd.isna(second["size"])
    assert str(rows["status"].dtype) == "Int64"


def test_an_empty_history_still_has_its_columns():
    rows = History().rows()
    assert rows.empty and "status" in rows.columns


def test_add_replace_and_bound():
    history = History(max_entries=3)
    base = failed_exchange(Secrets())
    for i in range(5):
        history.add(Exchange(**{**base.__dict__, "id": f"e{i}"}))
    assert [ex.id for ex in history.exchanges()] == ["e2", "e3", "e4"]
    history.add(Exchange(**{**base.__dict__, "id": "e2", "error": "again"}))
    assert [ex.id for ex in history.exchanges()] == ["e3", "e4", "e2"] and len(history) == 3
    history.clear()
    assert len(history) == 0


def test_history_keeps_its_bodies_under_a_byte_budget_and_always_the_newest():
    history = History(max_bytes=3 * 1024 * 1024)
    base = failed_exchange(Secrets())
    body = "x" * (1024 * 1024)
    for i in range(8):
        request = RequestSpec("POST", "http://127.0.0.1:9/api/x", body=body)
        history.add(Exchange(**{**base.__dict__, "id": f"e{i}", "request": request}))
    assert history.size_bytes <= 3 * 1024 * 1024
    assert [ex.id for ex in history.exchanges()] == ["e5", "e6", "e7"]
    huge = RequestSpec("POST", "http://127.0.0.1:9/api/x", body="y" * (5 * 1024 * 1024))
    history.add(Exchange(**{**base.__dict__, "id": "big", "request": huge}))
    assert [ex.id for ex in history.exchanges()] == ["big"]  # the newest stays, even alone over budget


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised():
    base = failed_exchange(Secrets())
    history = History()
    for i, start in enumerate(('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)")):
        auth = AuthInfo("token", "pasted", identity=start)
        history.add(Exchange(**{**base.__dict__, "id": f"f{i}", "auth": auth}))
    _, text = history.export("csv")
    cells = [row.split(",")[-1] for row in text.strip().splitlines()[1:]]
    assert all(cell.lstrip('"').startswith("'") for cell in cells), cells


def test_concurrent_adds_lose_nothing():
    history = History()
    base = failed_exchange(Secrets())

    def add_many(prefix: str) -> None:
        for i in range(200):
            history.add(Exchange(**{**base.__dict__, "id": f"{prefix}{i}"}))
            history.rows() if i % 50 == 0 else None

    threads = [threading.Thread(target=add_many, args=(p,)) for p in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(history) == 800


def test_csv_export_reads_back_as_the_table(history):
    _name, text = history.export("csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == ["ex-1", "ex-2"]
    assert rows[0]["status"] == "200" and rows[1]["status"] == ""


def test_call_json_has_the_documented_shape(creds):
    out = exchange_to_dict(leaky_exchange(creds))
    assert set(out) >= {"request", "response", "token", "auth", "findings", "ok"}
    assert set(out["request"]) >= {"method", "url", "headers"}
    assert out["request"]["headers"]["Authorization"] == f"Bearer {mask(creds.token)}"
    assert set(out["response"]) >= {
        "status",
        "reason",
        "headers",
        "body",
        "elapsed_ms",
        "ttfb_ms",
        "size",
        "truncated",
    }
    assert out["response"]["body"]["headers"]["x-forwarded-access-token"] == mask(creds.forwarded)
    assert out["token"]["masked"] == mask(creds.token) and out["token"]["missing_scopes"] == ["sql"]
    assert out["token"]["expires_at"].endswith("Z")
    assert out["auth"]["method"] == "m2m" and out["auth"]["details"]["client_id"] == "7b1f3c2a-5d4e"
    assert out["findings"][0]["code"] == "SCOPE_MISSING"
    assert out["ok"] is True
    json.dumps(out)  # serialisable as is


def test_call_json_of_a_failed_exchange(creds):
    out = exchange_to_dict(failed_exchange(creds))
    assert out["response"] is None and out["ok"] is False
    assert out["error"].startswith("Read timed out") and creds.pat not in out["error"]


def test_truncated_and_text_bodies_are_exported_as_text(creds):
    ex = leaky_exchange(creds)
    ex.response = response(body=b'[{"a": 1}, {"a"', truncated=True, size=50_000_000, text='[{"a": 1}, {"a"')
    assert exchange_to_dict(ex)["response"]["body"] == '[{"a": 1}, {"a"'
    content = to_har([ex])["log"]["entries"][0]["response"]["content"]
    assert content["size"] == 50_000_000 and "truncated" in content["comment"]


REQUIRED_ENTRY = {"startedDateTime", "time", "request", "response", "cache", "timings"}
REQUIRED_REQUEST = {
    "method",
    "url",
    "httpVersion",
    "cookies",
    "headers",
    "queryString",
    "headersSize",
    "bodySize",
}
REQUIRED_RESPONSE = {
    "status",
    "statusText",
    "httpVersion",
    "cookies",
    "headers",
    "content",
    "redirectURL",
    "headersSize",
    "bodySize",
}


def test_har_follows_the_1_2_format(history):
    _name, text = history.export("har")
    log = json.loads(text)["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] and log["creator"]["version"]
    assert len(log["entries"]) == 2
    for entry in log["entries"]:
        assert set(entry) >= REQUIRED_ENTRY
        assert set(entry["request"]) >= REQUIRED_REQUEST and set(entry["response"]) >= REQUIRED_RESPONSE
        datetime.fromisoformat(entry["startedDateTime"].replace("Z", "+00:00"))
        timings = entry["timings"]
        # HAR 1.2: send, wait and receive are required and >= 0; blocked, dns, connect and ssl
        # are optional and -1 where they do not apply
        assert {"send", "wait", "receive"} <= set(timings)
        assert all(timings[k] >= 0 for k in ("send", "wait", "receive"))
        assert all(timings.get(k, -1) >= -1 for k in ("blocked", "dns", "connect", "ssl"))
        assert entry["time"] == pytest.approx(sum(v for v in timings.values() if v > 0))  # -1s excluded
        assert {"size", "mimeType"} <= set(entry["response"]["content"])
        for header in entry["request"]["headers"] + entry["response"]["headers"]:
            assert set(header) == {"name", "value"}


def test_har_entry_details(history, creds):
    ok, failed = json.loads(history.export("har")[1])["log"]["entries"]
    assert ok["startedDateTime"] == "2027-01-15T08:00:00.250Z"
    assert ok["request"]["method"] == "POST"
    names = [q["name"] for q in ok["request"]["queryString"]]
    assert names == ["code", "page", "access_token"]
    assert ok["request"]["postData"]["mimeType"] == "application/json"
    assert json.loads(ok["request"]["postData"]["text"])["name"] == "widget"
    assert ok["response"]["status"] == 200 and ok["response"]["content"]["mimeType"] == "application/json"
    assert ok["response"]["redirectURL"].startswith(f"{WORKSPACE}/oidc/v1/authorize?code=")
    assert ok["timings"] == {"send": 0, "wait": 80.2, "receive": 40.2}
    assert "SCOPE_MISSING" in ok["comment"]
    assert failed["response"]["status"] == 0 and "Read timed out" in failed["comment"]
    assert "postData" not in failed["request"] and failed["request"]["bodySize"] == 0


def test_har_binary_bodies_are_base64_and_scrubbed(creds):
    ex = leaky_exchange(creds)
    payload = b"\x89PNG\x00\x01" + creds.pat.encode() + b"\xff"
    ex.response = response(body=payload, kind="binary", content_type="image/png", json=None)
    content = to_har([ex])["log"]["entries"][0]["response"]["content"]
    assert content["encoding"] == "base64" and content["mimeType"] == "image/png"
    decoded = base64.b64decode(content["text"])
    assert decoded.startswith(b"\x89PNG\x00\x01dapi") and decoded.endswith(b"\xff")
    assert creds.pat.encode() not in decoded


def test_unknown_export_formats_are_refused(history):
    with pytest.raises(ValueError, match="Unknown export format 'xml'"):
        history.export("xml")


def _json_exchange(number: int, charset: str = "") -> Exchange:
    value = {"n": number, "rows": [{"city": "Zürich", "i": i} for i in range(5)]}
    body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    response = Response(
        status=200, reason="OK", headers=[("Content-Type", "application/json")], body=body, size=len(body),
        elapsed_ms=1.0, ttfb_ms=1.0, content_type="application/json" + charset, kind="json", json=value,
        text=json.dumps(value, indent=2, ensure_ascii=False),
    )  # fmt: skip
    return Exchange(
        f"id{number}", 1.0, RequestSpec("GET", f"https://app.example.com/api/{number}"), response, None, None
    )


def test_old_entries_let_go_of_parsed_json_and_give_the_same_answers() -> None:
    from explorer.history import KEEP_PARSED

    history = History()
    exchanges = [_json_exchange(n) for n in range(KEEP_PARSED + 10)]
    expected = [(e.response.json, e.response.text) for e in exchanges]
    for ex in exchanges[:KEEP_PARSED]:
        history.add(ex)
    before = history.export("json")[1]
    for ex in exchanges[KEEP_PARSED:]:
        history.add(ex)
    oldest, newest = exchanges[0].response, exchanges[-1].response
    assert oldest.__dict__["_json"] is None and newest.__dict__["_json"] is not None  # dropped / kept
    assert [(e.response.json, e.response.text) for e in exchanges] == expected  # read back the same
    history_export = json.loads(history.export("json")[1])
    assert history_export[:KEEP_PARSED] == json.loads(before)[:KEEP_PARSED]
    assert history.size_bytes == sum(len(e.response.body) + len(e.response.text) for e in exchanges)


def test_a_body_in_another_charset_keeps_its_parsed_json() -> None:
    history = History()
    odd = _json_exchange(0, "; charset=latin-1")
    history.add(odd)
    for n in range(1, 60):
        history.add(_json_exchange(n))
    assert odd.response.__dict__["_json"] is not None  # only UTF-8 bodies are parsed again later
