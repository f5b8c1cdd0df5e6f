"""parse.py: what the user types becomes a clean value or one readable line of error."""

from __future__ import annotations

import pandas as pd
import pytest

from explorer.parse import (
    InputError,
    normalize_host,
    normalize_url,
    origin,
    origin_key,
    parse_header_line,
    parse_header_lines,
    parse_json_body,
    parse_query,
    parse_scopes,
    url_with_params,
)

APP = "https://hello-1234567890.aws.databricksapps.com"


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(InputError) as raised:
        call(*args, **kwargs)
    message = str(raised.value)
    assert "\n" not in message and len(message) <= 200
    return message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{APP}/api/hello", f"{APP}/api/hello"),
        ("  HTTPS://Hello.Example.COM/Api/X?a=1#frag ", "https://hello.example.com/Api/X?a=1"),
        ("hello.example.com/api/x", "https://hello.example.com/api/x"),
        ("localhost:8080/api/x", "https://localhost:8080/api/x"),
        ("http://127.0.0.1:8765/api/x", "http://127.0.0.1:8765/api/x"),
        ("http://[::1]:8000/api", "http://[::1]:8000/api"),
        ("https://bücher.example/api", "https://xn--bcher-kva.example/api"),
        ("https://example.com", "https://example.com"),
    ],
)
def test_full_urls_are_normalised(text, expected):
    assert normalize_url(text) == expected


def test_a_path_is_joined_to_the_origin_of_the_app_url():
    assert normalize_url("/api/items?x=1", base=f"{APP}/ignored/path") == f"{APP}/api/items?x=1"
    assert normalize_url("api/items", base=APP) == f"{APP}/api/items"


def test_a_url_inside_the_query_does_not_make_a_path_a_url():
    assert (
        normalize_url("/api/go?next=https://x.example/a", base=APP)
        == f"{APP}/api/go?next=https://x.example/a"
    )
    assert normalize_url("x.example/api?u=http://y") == "https://x.example/api?u=http://y"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "Enter a URL"),
        ("/api/x", "is a path"),
        ("ftp://example.com/x", "Unsupported scheme 'ftp'"),
        ("javascript:alert(1)", "Unsupported scheme 'javascript'"),
        ("https://exa mple.com/", "contains a space at position 12"),
        ("https://example.com/a\tb", "contains the character '\\t'"),
        ("https://example.com/\x00", "contains the character '\\x00'"),
        ("https:///api/x", "No host"),
        ("https://example.com:99999/", "Invalid port"),
        ("https://example.com:0/", "Invalid port"),
        ("https://user:pw@example.com/", "User name or password"),
        ("https://-bad-.example.com/", "Invalid host name"),
        ("https://[zz::1]/", "Malformed URL"),
        ("//evil.example.com/api", "a path starts with a single /"),
    ],
)
def test_bad_urls_give_one_clear_line(text, needle):
    assert needle in error_of(normalize_url, text)


def test_non_text_input_is_refused_readably():
    assert "Expected text" in error_of(normalize_url, 42)


def test_a_scheme_relative_path_cannot_switch_hosts_even_with_a_base():
    error_of(normalize_url, "//evil.example.com/api", base=APP)


def test_workspace_hosts_get_https_only_when_they_have_no_scheme():
    assert normalize_host("adb-123.4.azuredatabricks.net") == "https://adb-123.4.azuredatabricks.net"
    assert normalize_host("http://127.0.0.1:8765/") == "http://127.0.0.1:8765"
    assert normalize_host("https://adb-1.azuredatabricks.net/?o=1#x") == "https://adb-1.azuredatabricks.net"
    assert "Enter the workspace host" in error_of(normalize_host, "  ")
    assert "Unsupported scheme" in error_of(normalize_host, "ws://x")


def test_origin_of_drops_path_and_query():
    assert origin(f"{APP}/api/x?y=1") == APP
    assert (
        origin_key("HTTPS://Host.Example/x")
        == origin_key("https://host.example:443/y")
        == "https://host.example:443"
    )
    assert origin_key("http://h:99999/") == "http://h:80"  # a malformed port never raises


def test_params_are_appended_to_the_url_as_they_will_be_sent():
    assert url_with_params(f"{APP}/api/x", [("q", "a b&c"), ("n", "1")]) == f"{APP}/api/x?q=a%20b%26c&n=1"
    assert url_with_params(f"{APP}/api/x?a=1", [("b", "2")]) == f"{APP}/api/x?a=1&b=2"
    assert url_with_params(f"{APP}/api/x", []) == f"{APP}/api/x"


def test_header_lines_split_on_the_first_colon():
    assert parse_header_line("X-Trace:  a:b:c ") == ("X-Trace", "a:b:c")
    assert parse_header_line("X-Empty:") == ("X-Empty", "")


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("no colon here", "needs the form 'Name: value'"),
        (": value", "has no name"),
        ("Bad Name: v", "may only contain"),
        ("X-A: one\rtwo", "control character"),
    ],
)
def test_bad_header_lines_are_explained(line, needle):
    assert needle in error_of(parse_header_line, line)


def test_header_blocks_skip_blank_lines_and_name_the_bad_line():
    assert parse_header_lines("A: 1\n\n  \nB: 2\r\n") == [("A", "1"), ("B", "2")]
    assert parse_header_lines(None) == []
    assert error_of(parse_header_lines, "A: 1\nbroken").startswith("line 2: ")


def test_query_text_accepts_pasted_query_strings_and_lines():
    assert parse_query("?a=1&b=x+y%20z&flag") == [("a", "1"), ("b", "x y z"), ("flag", "")]
    assert parse_query("a=1\nb=x+y\n\n") == [("a", "1"), ("b", "x+y")]
    assert parse_query("") == [] and parse_query(None) == []
    assert "has no name" in error_of(parse_query, "=1")


def test_query_rows_come_from_lists_mappings_and_dataframes():
    assert parse_query([["a", 1], ["", None], ("b", "")]) == [("a", "1"), ("b", "")]
    assert parse_query({"a": "1"}) == [("a", "1")]
    frame = pd.DataFrame([["a", "1"], [None, float("nan")]], columns=["name", "value"])
    assert parse_query(frame) == [("a", "1")]
    assert "value but no name" in error_of(parse_query, [["", "x"]])
    assert "more than two cells" in error_of(parse_query, [["a", "b", "c"]])
    assert "(name, value) pair" in error_of(parse_query, ["a=b"])
    assert "Expected query parameters" in error_of(parse_query, 3.5)


def test_json_bodies_parse_and_empty_means_no_body():
    assert parse_json_body('{"a": [1, 2.5, null, true]}') == {"a": [1, 2.5, None, True]}
    assert parse_json_body("   ") is None and parse_json_body(None) is None
    assert parse_json_body("0") == 0


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"a": }', "line 1 col 7: Expecting value"),
        ('{\n  "a": 1,\n}', "line 3 col 1:"),
        ("NaN", "NaN is not allowed"),
        ("[" * 100_000, "nested too deeply"),
        ("1" * 5000, "Invalid JSON"),
    ],
)
def test_invalid_json_bodies_say_where(text, needle):
    assert needle in error_of(parse_json_body, text)


def test_scopes_split_on_spaces_and_commas_without_duplicates():
    assert parse_scopes("sql, files.files  all-apis,sql") == ["sql", "files.files", "all-apis"]
    assert parse_scopes(["sql dashboards.genie", "iam.current-user:read"]) == [
        "sql",
        "dashboards.genie",
        "iam.current-user:read",
    ]
    assert parse_scopes(None) == [] and parse_scopes("") == []
    assert "Invalid scope" in error_of(parse_scopes, 'sql "quoted"')
    assert "Expected scope names" in error_of(parse_scopes, [1])


def test_the_ws_method_opens_an_http_url_or_a_path_as_a_websocket():
    from explorer.request import build_spec

    spec = build_spec("ws", "http://127.0.0.1:8000/api/ws", body="hello\nsecond")
    assert (spec.method, spec.url, spec.body) == ("GET", "ws://127.0.0.1:8000/api/ws", "hello\nsecond")
    assert build_spec("WS", "/api/ws", base="https://app.example.com/x").url == "wss://app.example.com/api/ws"
    assert build_spec("WS", "wss://app.example.com/api/ws").url == "wss://app.example.com/api/ws"
    assert build_spec("GET", "http://127.0.0.1:8000/api/ws").url.startswith("http://")  # only WS changes it
