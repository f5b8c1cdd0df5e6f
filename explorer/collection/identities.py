"""Who the requests of a run are sent as: one `ExplorerSession` per identity, connected once.

The run's default identity comes from the command line's auth options when given, else the
environment's `auth`, else the collection's `defaults.auth`. A request may name its own
(`auth_method: none`, or another method); each distinct identity gets its own session, connected
once, so credentials are resolved once and reused. Secret fields never come from files: they
come from the process environment (each field's env var), `.env`, or a prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from explorer.auth import METHODS
from explorer.collection.model import AuthRef
from explorer.collection.variables import Scope, UndefinedVariable
from explorer.model import AuthInfo, Finding
from explorer.session import Connection, ExplorerSession

# (session, auth reference or None for "the default", scope, explicit) -> Connection (None: no auth)
Connector = Callable[[ExplorerSession, "AuthRef | None", Scope, bool], "Connection | None"]


def ref_fields(
    ref: AuthRef, scope: Scope, dotenv: Mapping[str, str], prompt: Callable[[str], str | None] | None = None
) -> dict[str, str]:
    """The fields to connect `ref` with: its own (variables resolved), secrets from `.env` / a prompt."""
    method = METHODS[ref.method]
    fields = {name: scope.resolve(value, f"auth field {name}") for name, value in ref.fields.items()}
    for spec in method.fields:  # `.env` (or the UI's preset values) fills what the file leaves out
        if fields.get(spec.name):
            continue
        if spec.env_var and dotenv.get(spec.env_var):
            fields[spec.name] = dotenv[spec.env_var]
    token_env = fields.get("token_env")
    if (
        ref.method in ("token", "federated")
        and token_env
        and not fields.get("token")
        and dotenv.get(token_env)
    ):
        fields["token" if ref.method == "token" else "subject_token"] = dotenv[token_env]
    if prompt is not None:
        import os

        for spec in method.fields:
            missing = spec.secret and spec.required and not fields.get(spec.name)
            if missing and not (spec.env_var and os.environ.get(spec.env_var)):
                answer = prompt(f"{method.label} {spec.label}: ")
                if answer:
                    fields[spec.name] = answer
    return fields


def connect_ref(
    session: ExplorerSession,
    ref: AuthRef,
    scope: Scope,
    dotenv: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
    prompt: Callable[[str], str | None] | None = None,
) -> Connection | None:
    """Connect `session` as `ref` (None for `none`); failures are in the Connection's findings."""
    if ref.method == "none":
        return None
    if ref.method not in METHODS:
        return _failed(
            ref.method, f"Unknown auth method {ref.method!r}", f"Use one of none, {', '.join(METHODS)}."
        )
    if METHODS[ref.method].interactive:
        return _failed(ref.method, "The browser sign-in needs the command line", "Run with --auth browser.")
    try:
        fields = {**ref_fields(ref, scope, dotenv, prompt), **(overrides or {})}
    except UndefinedVariable as error:
        return _failed(ref.method, str(error), "Define the variable, or pass the field as an option.")
    return session.connect(ref.method, fields)


def _failed(method: str, message: str, fix: str) -> Connection:
    return Connection(
        AuthInfo(method, "not connected"), None, [Finding("AUTH_FAILED", "error", message, fix)], False
    )


class Identities:
    """The sessions of one run, by identity. `base` serves the default identity."""

    def __init__(
        self,
        base: ExplorerSession,
        connector: Connector,
        on_new_session: Callable[[ExplorerSession], None] | None = None,
    ) -> None:
        self.base = base
        self.connector = connector
        self.on_new_session = on_new_session
        self._sessions: dict[object, tuple[ExplorerSession, Connection | None]] = {}

    def preset_default(self, connection: Connection | None) -> None:
        """The default identity is `base` as already connected (e.g. to read workspace files)."""
        self._sessions["default"] = (self.base, connection)

    def for_request(
        self, ref: AuthRef | None, default: AuthRef | None, scope: Scope
    ) -> tuple[ExplorerSession, Connection | None]:
        explicit = ref is not None and ref.method != "inherit"
        key: object = ref.key if explicit and ref is not None else "default"
        found = self._sessions.get(key)
        if found is not None:
            return found
        if not explicit:
            session = self.base
            connection = self.connector(session, default, scope, False)
        else:
            assert ref is not None
            # The same trust as the base session: deployed, the same allowlist and platform rules.
            session = ExplorerSession(trust=self.base.trust, timeout=self.base.timeout)
            if self.on_new_session is not None:
                self.on_new_session(session)  # e.g. learn the secrets the process can see
            connection = None if ref.method == "none" else self.connector(session, ref, scope, True)
        self._sessions[key] = (session, connection)
        return session, connection

    def close(self) -> None:
        """Close the sessions this object opened (not `base`, which its owner closes)."""
        for session, _connection in self._sessions.values():
            if session is not self.base:
                session.close()
        self._sessions.clear()


def simple_connector(dotenv: Mapping[str, str] | None = None) -> Connector:
    """A connector for programs (no command line): references connect with `session.connect`."""

    def connect(
        session: ExplorerSession, ref: AuthRef | None, scope: Scope, _explicit: bool
    ) -> Connection | None:
        if ref is None:
            return None
        return connect_ref(session, ref, scope, dotenv or {})

    return connect
