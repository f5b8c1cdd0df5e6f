"""Red team, in process: a deployed explorer's signed-in users cannot reach its own credentials.

The engine runs under the deployed Trust exactly as `python -m explorer` deployed builds it: the
platform's identity (a real service principal of the sandbox) in the Trust, the same secret in
the process environment as the platform injects it, a canary off the allowlist that must receive
nothing, and allowed "workspaces" whose OAuth metadata point at the canary. Every story searches
every output for the real secret; an audit hook proves no server file is opened.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hostile import hostile_workspace
from support.recording_server import RecordingServer, recording_server
from support.sandbox_helpers import m2m_token
from test_deployed_session import gradio_request

from explorer.auth import METHODS, AuthFailed
from explorer.guard import Allowlist
from explorer.parse import InputError
from explorer.session import ExplorerSession
from explorer.trust import Trust
from explorer.ui.config import PRESET_SECRET, UIConfig
from explorer.ui.handlers import Handlers, _user_error, friendly
from explorer.ui.state import NotYourSession, UISession

# --- files the server must never open for a signed-in user ------------------------------------

_opened: list[str] = []
_watch = threading.local()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and getattr(_watch, "on", False) and args and isinstance(args[0], (str, bytes)):
        _opened.append(str(args[0]))


sys.addaudithook(_audit)


class Watching:
    """Records the files opened in this thread (and by the engine's bounded-wait threads)."""

    def __enter__(self) -> Watching:
        _opened.clear()
        _watch.on = True
        threading.setprofile(lambda *_: setattr(_watch, "on", True))  # new threads watch too
        return self

    def __exit__(self, *_: object) -> None:
        _watch.on = False
        threading.setprofile(None)  # type: ignore[arg-type]

    def opened(self, *paths: str) -> list[str]:
        return [p for p in _opened if any(p.endswith(want) or want in p for want in paths)]


# --- the deployment ---------------------------------------------------------------------------


class World:
    def __init__(
        self, info: dict[str, Any], canary: RecordingServer, oidc: str, token: str, link: str
    ) -> None:
        self.info = info
        self.canary = canary
        self.attacker_oidc, self.attacker_token, self.attacker_link = oidc, token, link
        sp = info["service_principals"]["demo-sp"]
        self.secret = sp["client_secret"]
        self.platform = {
            "DATABRICKS_HOST": info["host"],
            "DATABRICKS_CLIENT_ID": sp["client_id"],
            "DATABRICKS_CLIENT_SECRET": self.secret,
        }
        allowed = ",".join(u.split("//")[1] for u in (oidc, token, link, info["apps"]["hello"]["url"]))
        self.allowlist = Allowlist.for_deployment(info["host"], allowed)
        self.trust = Trust.for_deployment(self.allowlist, self.platform)

    def session(self) -> ExplorerSession:
        return ExplorerSession(trust=self.trust, timeout=5)

    def assert_clean(self, *outputs: Any) -> None:
        """Nothing reached the canary; the secret is in none of `outputs` (any shape)."""
        assert self.canary.requests == [], [r.path for r in self.canary.requests]
        text = json.dumps([repr(o) for o in outputs]) + " ".join(str(o) for o in outputs)
        assert self.secret not in text


@pytest.fixture(scope="module")
def world(sandbox_info: dict[str, Any]) -> Iterator[World]:
    with (
        recording_server() as canary,
        hostile_workspace(canary.url, "oidc") as oidc,
        hostile_workspace(canary.url, "token") as token,
        hostile_workspace(canary.url, "link") as link,
    ):
        yield World(sandbox_info, canary, oidc.url, token.url, link.url)


@pytest.fixture
def platform_env(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The server's environment as the Apps platform sets it, and a file holding its secret."""
    for name, value in world.platform.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABRICKS_TOKEN", m2m_token(world.info))
    secret_file = tmp_path / "server-secret.txt"
    secret_file.write_text(world.secret)
    world.canary.requests.clear()
    return secret_file


def connect(world: World, method: str, fields: dict[str, str]) -> tuple[Any, str | None]:
    session = world.session()
    try:
        connection = session.connect(method, fields)
        return connection, session.reveal_token()
    finally:
        session.close()


def codes(connection: Any) -> list[str]:
    return [f.code for f in connection.findings]


# --- the four ways in, closed ------------------------------------------------------------------


def test_a_token_env_var_naming_the_servers_secret_is_refused(world: World, platform_env: Path) -> None:
    for var in ("DATABRICKS_CLIENT_SECRET", "DATABRICKS_TOKEN", "PATH"):
        connection, revealed = connect(world, "token", {"token_env": var})
        assert not connection.ok and revealed is None
        assert "never reads the server's environment" in connection.findings[0].message
        world.assert_clean(connection, revealed)
    # and with no token at all, the server's $DATABRICKS_TOKEN is not a fallback
    connection, revealed = connect(world, "token", {})
    assert not connection.ok and codes(connection) == ["TOKEN_MISSING"] and revealed is None


def test_m2m_never_falls_back_to_the_servers_service_principal(world: World, platform_env: Path) -> None:
    for host in (world.info["host"], world.attacker_oidc):
        connection, revealed = connect(world, "m2m", {"host": host})
        assert not connection.ok and "needs Client id" in connection.findings[0].message
        world.assert_clean(connection, revealed)


@pytest.mark.parametrize("attacker", ["attacker_oidc", "attacker_token"])
def test_an_allowed_hosts_metadata_cannot_send_a_secret_off_the_allowlist(
    world: World, platform_env: Path, attacker: str
) -> None:
    host = getattr(world, attacker)
    for method, fields in (
        ("m2m", {"host": host, "client_id": "someone", "client_secret": world.secret}),
        ("federated", {"host": host, "subject_token": m2m_token(world.info)}),
    ):
        connection, revealed = connect(world, method, fields)
        assert not connection.ok and codes(connection)[0] in ("HOST_NOT_ALLOWED", "AUTH_FAILED")
        world.assert_clean(connection, revealed)


def test_a_javascript_sign_in_link_is_refused_before_it_is_shown(world: World, platform_env: Path) -> None:
    session = world.session()
    try:
        with pytest.raises(AuthFailed) as refused:
            session.begin_browser({"host": world.attacker_link}, listen=False)
    finally:
        session.close()
    assert "not an http(s) URL" in refused.value.findings[0].message
    world.assert_clean(refused.value.findings)


@pytest.mark.parametrize("path", ["/proc/self/environ", "/etc/passwd", "/no/such/file"])
def test_a_subject_token_file_is_never_read(world: World, platform_env: Path, path: str) -> None:
    fields = {"host": world.info["host"], "subject_token_file": path}
    with Watching() as watch:
        connection, revealed = connect(world, "federated", fields)
    assert not connection.ok and watch.opened(path, "environ") == []
    # the same words whether or not the file exists: nothing is learnt about the server's disk
    assert connection.findings[0].message == (
        "IdP token file: a deployed explorer never reads the server's files for a signed-in user"
    )
    world.assert_clean(connection, revealed)


def test_profiles_are_not_offered_and_their_files_never_opened(world: World, platform_env: Path) -> None:
    assert not METHODS["profile"].offered(world.trust)
    with Watching() as watch:
        connection, revealed = connect(world, "profile", {"config_file": str(platform_env), "profile": "x"})
    assert not connection.ok and watch.opened(str(platform_env), ".databrickscfg") == []
    assert "reads this server's files" in connection.findings[0].message
    world.assert_clean(connection, revealed)


def test_the_app_method_alone_uses_the_platforms_identity(world: World, platform_env: Path) -> None:
    connection, revealed = connect(world, "app", {})
    assert connection.ok and connection.auth.identity == world.platform["DATABRICKS_CLIENT_ID"]
    assert revealed and revealed != world.secret
    world.assert_clean(connection)


# --- what the page shows -------------------------------------------------------------------------


def test_the_demo_secret_fills_in_only_for_its_own_method_and_host() -> None:
    config = UIConfig(method="m2m", fields={"host": "http://127.0.0.1:1", "client_secret": "s3cret-value"})
    same = config.presets("m2m", {"host": "http://127.0.0.1:1/", "client_secret": PRESET_SECRET})
    assert same["client_secret"] == "s3cret-value"
    elsewhere = config.presets("m2m", {"host": "https://attacker.example", "client_secret": PRESET_SECRET})
    assert elsewhere["client_secret"] == ""
    other_method = config.presets("federated", {"host": "http://127.0.0.1:1", "subject_token": PRESET_SECRET})
    assert other_method["subject_token"] == ""


def test_toast_text_is_escaped_html() -> None:
    error = _user_error(
        lambda: None, InputError('<a href="https://phish.example/login">Session expired</a>'), ()
    )
    assert "<a " not in error.message and "&lt;a href=" in error.message


def test_a_bug_is_reported_as_a_bug_not_as_bad_input() -> None:
    error = _user_error(lambda: None, ValueError("list index out of range <b>"), ())
    assert "bug" in error.message and "<b>" not in error.message and "index out of range" not in error.message


def test_a_session_cannot_be_replayed_by_another_signed_in_user(world: World) -> None:
    handlers = Handlers(UIConfig(deployed=True, allowlist=world.allowlist, trust=world.trust))
    ui: UISession = handlers.session(None, gradio_request({"X-Forwarded-Email": "alice@example.com"}))
    try:
        assert handlers.session(ui, gradio_request({"X-Forwarded-Email": "Alice@example.com"})) is ui
        with pytest.raises(NotYourSession, match="another signed-in user"):
            handlers.session(ui, gradio_request({"X-Forwarded-Email": "bob@example.com"}))
        with pytest.raises(NotYourSession):
            handlers.session(ui, gradio_request({}))
        # and through the guard every handler has, whatever it takes (this one takes no request)
        reveal = friendly(handlers.reveal_token)
        with pytest.raises(gr.Error, match="another signed-in user"):
            reveal(ui, gradio_request({"X-Forwarded-Email": "bob@example.com"}))
    finally:
        ui.close()


# --- the property: no field values reach the server's environment, files or secret -----------------

_VALUES = st.sampled_from(
    [
        "",
        "someone",
        "DATABRICKS_CLIENT_SECRET",
        "DATABRICKS_TOKEN",
        "HOME",
        "/proc/self/environ",
        "~/.databrickscfg",
        "../../etc/passwd",
        "file:///proc/self/environ",
        "$DATABRICKS_CLIENT_SECRET",
        "DEFAULT",
        "all-apis sql",
        "8020",
        "eyJhbGciOiJub25lIn0.e30.",
    ]
)


@pytest.fixture(scope="module")
def hosts(world: World) -> list[str]:
    return [
        world.info["host"],
        world.attacker_oidc,
        world.attacker_token,
        world.attacker_link,
        world.canary.url,
        "",
    ]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_field_values_make_the_server_read_its_env_or_files_or_send_its_secret(
    world: World, platform_env: Path, hosts: list[str], data: st.DataObject
) -> None:
    world.canary.requests.clear()
    method = data.draw(st.sampled_from(["m2m", "token", "federated", "profile", "browser", "user"]))
    fields: dict[str, str] = {}
    for spec in METHODS[method].fields:
        if spec.env_only:
            continue
        if spec.name == "host":
            value = data.draw(st.sampled_from(hosts), label="host")
        else:
            value = data.draw(st.one_of(_VALUES, st.just(str(platform_env))), label=spec.name)
        if value:
            fields[spec.name] = value
    session = world.session()
    outputs: list[Any] = []
    try:
        with Watching() as watch:
            if METHODS[method].interactive:
                try:
                    outputs.append(session.begin_browser(fields, listen=False))
                except AuthFailed as refused:
                    outputs.append(refused.findings)
            else:
                outputs.append(session.connect(method, fields))
            outputs.append(session.reveal_token())
    finally:
        session.close()
    assert watch.opened(str(platform_env), "environ", ".databrickscfg", "passwd") == []
    world.assert_clean(*outputs)
