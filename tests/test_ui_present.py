"""What the panes show for an exchange: badge colours, notices, tables, token and diagnosis views."""

from __future__ import annotations

import json

import pandas as pd

from explorer.model import (
    AppSummary,
    AuthInfo,
    Endpoint,
    EndpointListing,
    Exchange,
    Finding,
    RequestSpec,
    Response,
    TokenInfo,
)
from explorer.ui import present

NOW = 1_700_000_000.0


def response(status: int = 200, body: object = None, **kw: object) -> Response:
    raw = json.dumps(body).encode() if body is not None else b""
    fields = {
        "status": status,
        "reason": "OK",
        "headers": [("content-type", "application/json")],
        "body": raw,
        "size": len(raw),
        "elapsed_ms": 12.3,
        "ttfb_ms": 9.1,
        "content_type": "application/json",
        "kind": "json" if body is not None else "empty",
        "json": body,
        "text": json.dumps(body, indent=2) if body is not None else "",
    }
    return Response(**{**fields, **kw})  # type: ignore[arg-type]


def token(**kw: object) -> TokenInfo:
    fields = {
        "masked": "eyJh…x9Q",
        "kind": "oauth",
        "issuer": "http://ws/oidc",
        "subject": "sp-123",
        "expires_at": NOW + 3000,
        "scopes": ["all-apis", "sql"],
        "required_scopes": ["sql", "files.files"],
        "missing_scopes": ["files.files"],
    }
    return TokenInfo(**{**fields, **kw})  # type: ignore[arg-type]


def exchange(resp: Response | None, findings: list[Finding] | None = None, **kw: object) -> Exchange:
    return Exchange(
        id="x1",
        started_at=NOW,
        request=RequestSpec(url="http://app/api/hello"),
        response=resp,
        auth=AuthInfo(method="m2m", source="service principal", identity="sp-123"),
        token=token(),
        findings=findings or [],
        **kw,  # type: ignore[arg-type]
    )


def test_the_status_badge_is_coloured_by_class() -> None:
    assert [present.status_class(s) for s in (200, 302, 403, 502, None)] == [
        "s-2xx",
        "s-3xx",
        "s-4xx",
        "s-5xx",
        "s-err",
    ]
    html = present.status_html(exchange(response(201)))
    assert 's-2xx">201<' in html and "12 ms" in html and "TTFB 9 ms" in html


def test_a_truncated_body_carries_a_notice_with_both_sizes() -> None:
    resp = response(body=[1, 2, 3], truncated=True, size=50 * 1024 * 1024)
    assert "Large response" in present.status_html(exchange(resp)) and "50.0 MB" in present.status_html(
        exchange(resp)
    )


def test_no_response_shows_the_error() -> None:
    html = present.status_html(exchange(None, error="connection refused"))
    assert "No response" in html and "connection refused" in html


def test_server_text_is_escaped_everywhere() -> None:
    evil = "<script>alert(1)</script>"
    finding = Finding("SERVER_ERROR", "error", evil, evil)
    views = [
        present.status_html(exchange(response(500, reason=evil))),
        present.findings_html([finding]),
        present.token_html(token(subject=evil), NOW),
        present.listing_html(EndpointListing([], source_url=evil)),
    ]
    for html in views:
        assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_list_of_records_or_a_columns_rows_object_is_a_table() -> None:
    assert present.body_table(response(body=[{"a": 1, "b": {"c": 2}}])).to_dict("records") == [
        {"a": 1, "b": '{"c": 2}'}
    ]
    table = present.body_table(response(body={"columns": ["x", "y"], "rows": [[1, 2], [3, 4]]}))
    assert list(table.columns) == ["x", "y"] and len(table) == 2
    assert present.body_table(response(body={"items": [{"id": 1}], "count": 1})) is not None
    assert present.body_table(response(body={"message": "hi"})) is None
    assert present.body_table(response(body=[1, 2])) is None


def test_findings_are_most_important_first() -> None:
    findings = [Finding("PATH_NOT_API", "warning", "m", "f"), Finding("NO_CAN_USE", "error", "m", "f")]
    html = present.findings_html(findings)
    assert html.index("NO_CAN_USE") < html.index("PATH_NOT_API")
    assert "No problems found" in present.findings_html([], ok=True)


def test_the_token_view_highlights_missing_scopes_and_counts_down() -> None:
    html = present.token_html(token(), NOW)
    assert 'chip bad">files.files<' in html and 'chip ok">sql<' in html and "Missing 1 required scope" in html
    assert 'data-left="3000"' in html and "50:00 left" in html
    assert "eyJh…x9Q" in html


def test_countdown_text() -> None:
    assert present.countdown_text(59) == "0:59 left"
    assert present.countdown_text(3725) == "1 h 02 min left"
    assert present.countdown_text(-61) == "expired 1:01 ago"


def test_a_failure_keeps_the_body_and_puts_its_top_findings_in_a_banner() -> None:
    findings = [
        Finding("NO_CAN_USE", "error", "no", "grant it: `databricks apps set-permissions`"),
        Finding("SCOPE_MISSING", "error", "scopes", "add them"),
        Finding("REDIRECT", "warning", "moved", "follow"),
    ]
    view = present.exchange_view(exchange(response(403, reason="Forbidden"), findings), NOW)
    assert view.tab == "body" and view.finding_count == 3
    assert view.summary["findings"][0]["code"] == "NO_CAN_USE"
    assert "NO_CAN_USE" in view.banner and "1 more in Diagnosis" in view.banner
    # Command-line advice is code, never literal backticks, in the GUI.
    assert "`" not in view.banner and "<code>databricks apps set-permissions</code>" in view.banner
    assert "`" not in view.diagnosis
    ok = present.exchange_view(exchange(response(200, body={"a": 1})), NOW)
    assert ok.tab == "body" and ok.banner == ""


def test_a_finding_with_an_action_renders_a_fix_button_and_one_without_renders_none() -> None:
    from explorer.model import Fix

    fix = Fix("add_scopes", "Add sql to Scopes and reconnect", (("scopes", "sql"),))
    findings = [
        Finding("SCOPE_MISSING", "error", "scopes <b>", "add", action=fix),
        Finding("REDIRECT", "warning", "m", "f"),
    ]
    view = present.exchange_view(exchange(response(403, reason="Forbidden"), findings), NOW)
    assert view.banner.count('class="fix-action"') == 1 and 'data-fix="0"' in view.banner
    assert "Add sql to Scopes and reconnect" in view.diagnosis and "&lt;b&gt;" in view.diagnosis
    plain = present.exchange_view(exchange(response(403), [Finding("REDIRECT", "warning", "m", "f")]), NOW)
    assert "fix-action" not in plain.banner + plain.diagnosis


def test_the_summary_is_json_and_holds_only_the_masked_token() -> None:
    summary = present.exchange_summary(exchange(response(200, body={"a": 1})))
    assert json.loads(json.dumps(summary))["response"]["body"] == {"a": 1}
    assert summary["token"]["masked"] == "eyJh…x9Q" and summary["token"]["missing_scopes"] == ["files.files"]


def test_endpoints_filter_by_every_word() -> None:
    endpoints = [
        Endpoint("GET", "/api/items", "List items"),
        Endpoint("POST", "/api/items", "Create an item"),
    ]
    assert [e.method for e in present.filter_endpoints(endpoints, "item post")] == ["POST"]
    assert len(present.filter_endpoints(endpoints, "")) == 2
    frame = present.endpoints_frame(endpoints)
    assert list(frame.columns) == ["Method", "Endpoint"] and "ITEMS" in frame.iloc[0, 1].upper()
    assert "Create an item" in frame.iloc[2, 1] and "m-post" in frame.iloc[2, 0]  # grouped, a pill
    assert present.endpoints_summary(endpoints)[1]["summary"] == "Create an item"


def test_history_is_numbered_newest_first() -> None:
    rows = pd.DataFrame(
        [
            {"id": "a", "time": "2026-01-01 10:00:00", "method": "GET", "status": 200, "elapsed_ms": 3.0},
            {"id": "b", "time": "2026-01-01 10:00:05", "method": "POST", "status": 403, "elapsed_ms": 2.0},
        ]
    )
    frame = present.history_frame(rows)
    assert frame["#"].tolist() == [2, 1] and frame["time"].tolist() == ["10:00:05", "10:00:00"]
    assert "id" not in frame and "ms" in frame


def test_app_views() -> None:
    app = AppSummary("scoped", "http://a", "RUNNING", "ACTIVE", "sp", "spn", user_api_scopes=["sql"])
    assert present.app_label(app) == "scoped · RUNNING"
    assert "sql" in present.app_html(app)


def test_sizes_and_durations() -> None:
    assert [present.human_size(n) for n in (0, 2048, 5 * 1024 * 1024)] == ["0 B", "2.0 KB", "5.0 MB"]
    assert [present.human_ms(v) for v in (3.4, 12_500)] == ["3 ms", "12.5 s"]


def test_no_token_reaches_the_page_whole_even_when_a_server_echoes_it() -> None:
    from explorer.redact import Redactor

    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    secret = "dose-client-secret-0123456789"
    body = [{"token": jwt, "note": f"secret={secret}"}]
    resp = response(body=body, headers=[("Set-Cookie", f"s={jwt}"), ("X-Echo", secret)])
    view = present.exchange_view(exchange(resp), NOW, Redactor([secret]))
    shown = [view.pretty, view.raw, view.table.to_json(), json.dumps(view.headers), json.dumps(view.summary)]
    for text in shown:
        assert jwt not in text and secret not in text
    assert "eyJh…" in view.pretty


def test_the_waterfall_and_the_auth_timeline_are_escaped_and_proportional():
    from explorer.model import AuthEvent, ServerTiming, Timings
    from explorer.ui.present.timeline import auth_events_html, waterfall_html

    r = response(200, body={"a": 1})
    r.timings = Timings(dns_ms=1.0, connect_ms=1.0, tls_ms=None, send_ms=1.0, wait_ms=6.0, receive_ms=1.0)
    r.server_timing = [ServerTiming("db<script>", 5.0, "<b>x</b>")]
    html = waterfall_html(r)
    assert 'wf-wait" style="width:60.0%"' in html and "wf-tls" not in html
    assert "<script>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html and "new connection" in html
    event = AuthEvent(0, "https://h/oidc/v1/token", "client_credentials", ["all-apis"], 401, 12.0,
                      "invalid_client", "<img src=x>")  # fmt: skip
    table = auth_events_html([event])
    assert "invalid_client" in table and "<img" not in table and "&lt;img" in table
    assert waterfall_html(None) == "" and auth_events_html([]) == ""


def test_a_tab_label_never_fails_on_a_url_urllib_refuses() -> None:
    from explorer.ui.present.tabs import short_target, tab_label

    assert short_target("http://127.0.0.1:8000[") == "http://127.0.0.1:8000["
    assert tab_label("GET", "", "http://[::1", dirty=True) == "GET http://[::1 •"
    assert short_target("https://app.example.com/api/x?a=1") == "/api/x?a=1"


def test_the_fields_a_failed_connect_blames_are_marked_on_the_card_escaped() -> None:
    from explorer.model import AuthInfo, Connection, Finding

    hostile = 'no such host <img src=x onerror="alert(1)">'
    findings = [
        Finding("TOKEN_INVALID", "warning", "looks odd", "…", field="client_secret"),
        Finding("NETWORK_DNS", "error", hostile, "Check the URL.", field="host"),
        Finding("AUTH_FAILED", "error", "x" * 400, "…", field="client_secret"),
        Finding("AUTH_FAILED", "error", "about nothing on the form", "…"),
    ]
    failed = Connection(AuthInfo("m2m", "not connected"), None, findings, False)
    marks = present.connection.field_marks(failed)
    assert set(marks) == {"host", "client_secret"} and marks["host"] == hostile  # one reason per field
    assert len(marks["client_secret"]) == present.connection.MARK_CHARS and marks["client_secret"].endswith(
        "…"
    )  # the error's, not the warning's
    card = present.connection_html(failed, 0.0)
    assert "<img" not in card and "data-field-marks=" in card
    assert present.connection_summary(failed)["fields"] == marks
    working = Connection(AuthInfo("m2m", "sp", identity="sp"), None, [], True)
    assert "data-field-marks" not in present.connection_html(working, 0.0)  # success: no marks
    assert "data-field-marks" in present.connection_html(working, 0.0, failed_attempt=failed)


def test_endpoints_are_grouped_by_tag_and_a_collapsed_group_keeps_only_its_header() -> None:
    from explorer.ui.state import EndpointGroups

    endpoints = [
        Endpoint("GET", "/api/a", "A", tags=["alpha"]),
        Endpoint("GET", "/api/b", "B", tags=["beta"]),
        Endpoint("POST", "/api/c", "C", tags=["alpha"]),
        Endpoint("GET", "/api/d", "D", tags=["beta"]),
    ]
    frame = present.endpoints_frame(endpoints)
    labels = [row[1] for row in frame.itertuples(index=False)]
    assert ["alpha" in labels[0], "/api/a" in labels[1], "/api/c" in labels[2], "beta" in labels[3]] == [
        True
    ] * 4
    assert "(expanded)" in labels[0] and ">2<" in labels[0]  # the count
    folded = present.endpoints_frame(endpoints, {"alpha"})
    assert len(folded) == 4 and "(collapsed)" in folded.iloc[0, 1] and "/api/b" in folded.iloc[2, 1]
    header = tuple(folded.iloc[0])
    assert present.group_for_row(endpoints, header, {"alpha"}) == "alpha"
    assert present.group_for_row(endpoints, tuple(folded.iloc[2]), {"alpha"}) is None  # an endpoint's row
    assert present.endpoint_for_row(endpoints, header) is None  # a header never opens an endpoint
    # Untagged paths in groups of one each: no headers (2,000 of them must not double the rows).
    many = [Endpoint("GET", f"/api/p{i:04d}") for i in range(400)]
    assert len(present.endpoints_frame(many)) == present.discovery.PAGE_ROWS
    assert not any("ep-group" in v for v in present.endpoints_frame(many)["Endpoint"])
    # Collapsed groups are kept while a filter is typed (which opens every group), and come back after.
    groups = EndpointGroups()
    groups.toggle("alpha", "")
    assert groups.hidden("") == {"alpha"} and groups.hidden("c") == set()
    groups.toggle("beta", "c")
    assert groups.hidden("c d") == {"beta"} and groups.hidden("") == {"alpha"}
    assert groups.hidden("new filter") == set()  # a new filter starts open again


def test_history_rows_fit_the_sidebar_the_method_and_when_beside_the_path() -> None:
    from explorer.model import AppSummary

    ok = exchange(response(201))
    timed_out = exchange(None, [Finding("TIMEOUT", "error", "No complete response within 1 s", "…")])
    rows = present.history_table(
        [ok, timed_out], [AppSummary("hello", "http://app", "RUNNING", "ACTIVE", None, None)]
    )
    assert list(rows.columns) == ["#", "status", "request", "app", "ms"]
    newest, oldest = rows.iloc[0], rows.iloc[1]
    assert newest["#"] == 2 and "timeout" in newest["status"] and newest["ms"] == ""
    assert oldest["app"] == "hello" and ">201<" in oldest["status"] and "s-2xx" in oldest["status"]
    assert (
        "m-get" in oldest["request"]
        and "/api/hello" in oldest["request"]
        and "m2m · sp-123" in oldest["request"]
    )


def test_an_answer_sent_as_an_identity_names_it_in_its_history_row_and_status_line() -> None:
    from explorer.ui.present.tabs import sent_as_html

    mine, bobs = exchange(response(200)), exchange(response(403))
    bobs.id = "x2"
    rows = present.HistoryRows().table([mine, bobs], [], {bobs.id: "bob <b>"})
    assert "as bob &lt;b&gt; · m2m · sp-123" in rows.iloc[0]["request"]  # escaped, before the method
    assert " · as " not in rows.iloc[1]["request"]  # the page's own connection: no name
    status = sent_as_html(present.exchange_view(bobs, NOW).status, "bob <b>")
    line = status.split("</div>")[0]
    assert 'class="sent-as"' in line and "as bob &lt;b&gt;" in line and "bob <b>" not in status


def test_a_timeouts_message_is_said_once_not_in_the_status_line_and_the_banner() -> None:
    message = "No complete response from http://app within 1 s"
    timed_out = exchange(None, [Finding("TIMEOUT", "error", message, "Send again with a longer timeout.")])
    timed_out.error = message
    view = present.exchange_view(timed_out, NOW)
    assert ">Timeout<" in view.status and message not in view.status
    assert (view.status + view.banner).count(message) == 1
    other = exchange(None, [])
    other.error = "Connection reset by peer"
    assert "Connection reset by peer" in present.status_html(other)  # said nowhere else: kept
