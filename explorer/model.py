"""The domain model: plain dataclasses every other part is a function of.

Pipeline: resolve credentials -> build a RequestSpec -> send -> inspect (TokenInfo, Findings)
-> present (UI panes, CLI output, history rows, HAR, snippets).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from explorer.codes import is_code

Severity = Literal["error", "warning", "info"]
BodyKind = Literal["json", "text", "binary", "empty"]
USE_LEVELS = ("CAN_USE", "CAN_MANAGE")  # permission levels that let a caller use an app


@dataclass
class RequestSpec:
    """What the user asked to send. `url` is absolute (scheme://host[:port]/path)."""

    method: str = "GET"
    url: str = ""
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    timeout: float = 30.0


@dataclass
class Timings:
    """Where an exchange's time went, in ms (HAR 1.2's phases); None where a phase did not happen
    (no DNS for an IP literal, no TLS over http, nothing to connect on a reused connection)."""

    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    send_ms: float | None = None
    wait_ms: float | None = None  # time to first byte after the request was sent
    receive_ms: float | None = None
    reused: bool = False  # the request went out on a kept-alive connection

    def as_dict(self) -> dict[str, Any]:
        return {
            "dns_ms": _ms(self.dns_ms),
            "connect_ms": _ms(self.connect_ms),
            "tls_ms": _ms(self.tls_ms),
            "send_ms": _ms(self.send_ms),
            "wait_ms": _ms(self.wait_ms),
            "receive_ms": _ms(self.receive_ms),
            "reused": self.reused,
        }


@dataclass
class ServerTiming:
    """One metric of a `Server-Timing` response header (the app's own account of its time)."""

    name: str
    duration_ms: float | None = None
    description: str = ""


@dataclass
class StreamEvent:
    """One event of a streamed body (an SSE event, or one NDJSON line), as it arrived."""

    offset_ms: float  # since the request was sent
    data: str
    event: str | None = None
    id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"offset_ms": _ms(self.offset_ms), "event": self.event, "id": self.id, "data": self.data}


@dataclass
class Transcript:
    """An agent's answer assembled from its stream (OpenAI Responses / Chat Completions shapes)."""

    shape: str  # "responses" | "chat"
    text: str = ""
    tool_calls: list[dict[str, str]] = field(default_factory=list)  # {name, arguments}
    first_token_ms: float | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    done: bool = False
    tokens_per_second: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "shape": self.shape,
            "text": self.text,
            "tool_calls": self.tool_calls,
            "first_token_ms": _ms(self.first_token_ms),
            "tokens_per_second": None if self.tokens_per_second is None else round(self.tokens_per_second, 1),
            "usage": self.usage,
            "done": self.done,
        }


@dataclass
class Response:
    """What came back. `body` holds at most the display limit; `size` is the real size."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    size: int
    elapsed_ms: float
    ttfb_ms: float
    content_type: str = ""
    kind: BodyKind = "empty"
    json: Any = None  # parsed body when kind == "json" and not truncated
    text: str = ""  # display text (pretty JSON, text, or a binary summary)
    truncated: bool = False
    location: str | None = None  # a redirect's target (redirects are never followed)
    timings: Timings | None = None
    server_timing: list[ServerTiming] = field(default_factory=list)
    stream: str | None = None  # "sse" | "ndjson" when the body was read event by event
    events: list[StreamEvent] = field(default_factory=list)  # the latest ones (bounded)
    events_total: int = 0  # every event that arrived (older ones dropped from `events`)
    first_event_ms: float | None = None
    cancelled: bool = False  # the user stopped it; what arrived is kept
    transcript: Transcript | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def drop_parsed(self) -> None:
        """Let go of what is derived from a whole UTF-8 JSON body: the parsed value (often several
        times the body's size in Python objects) and its pretty text. Reading `json` or `text` makes
        them again from the kept body. The history does this for all but its newest entries."""
        charset = self.content_type.lower().partition("charset=")[2].split(";")[0].strip(' "')
        if (
            self.kind == "json"
            and not self.truncated
            and charset in ("", "utf-8", "utf8")
            and self.__dict__.get("_json") is not None
        ):
            self.__dict__.update(_json=None, _text=None, _derived_dropped=True)


def _reparsed(self: Response) -> Any:
    import json

    try:
        return json.loads(self.body)
    except ValueError:
        return None


def _get_json(self: Response) -> Any:
    if self.__dict__.get("_derived_dropped"):
        return _reparsed(self)  # not kept: an old entry read again stays small
    return self.__dict__.get("_json")


def _set_json(self: Response, value: Any) -> None:
    self.__dict__.update(_json=value, _derived_dropped=False)


def _get_text(self: Response) -> str:
    if self.__dict__.get("_derived_dropped"):
        import json

        return json.dumps(_reparsed(self), indent=2, ensure_ascii=False)  # as send.decode_body made it
    return self.__dict__.get("_text", "")


def _set_text(self: Response, value: str) -> None:
    self.__dict__["_text"] = value
    if self.__dict__.get("_derived_dropped"):
        self.__dict__.update(_json=_reparsed(self), _derived_dropped=False)


# `json` and `text` stay dataclass fields (constructors, equality, repr, asdict); reads go through these.
Response.json = property(_get_json, _set_json)  # type: ignore[assignment,method-assign]
Response.text = property(_get_text, _set_text)  # type: ignore[assignment,method-assign]


@dataclass(frozen=True)
class Fix:
    """A fix the explorer can apply, as data: each presenter renders it its own way (the CLI as
    flags and commands, the UI as an action). `kind` is one of FIX_KINDS; `params` its values."""

    kind: str
    label: str  # what an action button says, e.g. "Add sql to Scopes and reconnect"
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "params": dict(self.params)}


# add_scopes(scopes, method) · use_method(method) · use_path(path, url) · reconnect(method) · raise_timeout(seconds)
FIX_KINDS = ("add_scopes", "use_method", "use_path", "reconnect", "raise_timeout")


@dataclass
class Finding:
    """One diagnosis: stable `code` (explorer.codes), severity, one line, a concrete fix (as text,
    and as data in `action` when the explorer can apply it)."""

    code: str
    severity: Severity
    message: str
    fix: str
    action: Fix | None = None
    field: str | None = None  # the auth form field at fault (auth.registry.FIELD_AT_FAULT), if one is

    def __post_init__(self) -> None:
        if not is_code(self.code):
            raise ValueError(f"unknown finding code {self.code!r}: add it to explorer.codes")
        # Messages quote what servers, tokens and users said: a line break or control character
        # there must not forge extra lines in the CLI, the page or a log.
        self.message, self.fix = _one_line(self.message), _one_line(self.fix)

    def as_dict(self) -> dict[str, Any]:
        shape: dict[str, Any] = {"code": self.code, "severity": self.severity, "message": self.message}
        shape["fix"] = self.fix
        if self.action is not None:
            shape["action"] = self.action.as_dict()
        if self.field is not None:
            shape["field"] = self.field
        return shape


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _one_line(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


@dataclass
class TokenInfo:
    """Decoded (unverified, informational) view of a bearer token. Never holds the token."""

    masked: str
    kind: Literal["oauth", "pat", "entra", "foreign", "opaque", "none"] = "opaque"
    issuer: str | None = None
    audience: str | list[str] | None = None
    subject: str | None = None
    client_id: str | None = None
    token_type: str | None = None  # JWT header typ, e.g. "at+jwt"
    issued_at: float | None = None  # epoch seconds
    expires_at: float | None = None
    scopes: list[str] = field(default_factory=list)
    required_scopes: list[str] = field(default_factory=list)
    missing_scopes: list[str] = field(default_factory=list)
    claims: dict[str, Any] = field(default_factory=dict)

    def seconds_left(self, now: float) -> float | None:
        return None if self.expires_at is None else self.expires_at - now

    @property
    def workspace_host(self) -> str | None:
        """The workspace a Databricks-issued token came from (`iss` minus `/oidc`)."""
        if self.issuer and self.issuer.rstrip("/").endswith("/oidc"):
            return self.issuer.rstrip("/")[: -len("/oidc")]
        return None


@dataclass
class AuthInfo:
    """Where the credentials came from, like `databricks auth describe`. No secrets."""

    method: str
    source: str  # human text, e.g. "service principal 1b2c… from DATABRICKS_CLIENT_ID/SECRET"
    host: str | None = None  # workspace host, when known
    identity: str | None = None  # user email / SP application id, when known
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class AuthEvent:
    """One call the credentials made to get or refresh a token, as captured on the wire (no secrets)."""

    at: float  # epoch seconds
    url: str  # the token endpoint
    grant_type: str
    scopes: list[str]
    status: int | None  # None: no answer
    elapsed_ms: float
    error: str | None = None  # the OAuth error, e.g. invalid_client
    error_description: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "url": self.url,
            "grant_type": self.grant_type,
            "scopes": self.scopes,
            "status": self.status,
            "elapsed_ms": _ms(self.elapsed_ms),
            "error": self.error,
            "error_description": self.error_description,
        }


@dataclass
class Exchange:
    """One request and everything learned about it."""

    id: str
    started_at: float  # epoch seconds
    request: RequestSpec  # as sent, headers already redacted
    response: Response | None
    auth: AuthInfo | None
    token: TokenInfo | None
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # readable text when no response arrived
    retried: str | None = None  # why the exchange was sent a second time (e.g. a 401, token refreshed)
    auth_events: list[AuthEvent] = field(default_factory=list)  # token calls made during this exchange

    @property
    def ok(self) -> bool:
        """A 2xx, or a WebSocket whose upgrade was accepted (101)."""
        response = self.response
        if response is None:
            return False
        return 200 <= response.status < 300 or (response.status == 101 and response.stream == "websocket")


@dataclass
class AppSummary:
    """One app as the apps API describes it."""

    name: str
    url: str | None
    state: str | None  # app_status.state
    compute_state: str | None
    service_principal: str | None  # application id
    service_principal_name: str | None
    user_api_scopes: list[str] = field(default_factory=list)
    effective_user_api_scopes: list[str] = field(default_factory=list)
    description: str = ""
    problem: str = ""  # set when the apps API's entry is unusable (e.g. a malformed URL)


@dataclass
class Endpoint:
    """One operation from an app's OpenAPI document."""

    method: str
    path: str
    summary: str = ""
    parameters: list[dict[str, Any]] = field(
        default_factory=list
    )  # {name, in, required, schema, description}
    body_schema: dict[str, Any] | None = None
    body_example: str | None = None  # a JSON skeleton built from body_schema
    tags: list[str] = field(
        default_factory=list
    )  # the operation's OpenAPI tags (the list groups by the first)


@dataclass
class EndpointListing:
    endpoints: list[Endpoint]
    source_url: str | None  # where the document was found
    findings: list[Finding] = field(default_factory=list)
    declared: int | None = None  # operations the document declares, when more than were listed


@dataclass
class Grant:
    """One entry of an app's access control list."""

    principal: str  # user email, group name, or service principal application id
    kind: str  # "user" | "group" | "service_principal"
    levels: list[str] = field(default_factory=list)


@dataclass
class WorkspaceFacts:
    """What diagnosis may rely on; None / False mean "not known", never "no"."""

    host: str | None = None
    apps_listed: bool = False  # the apps API answered, so a missing app really is missing
    app: AppSummary | None = None  # the app whose URL is the target's origin
    permissions: list[Grant] | None = None  # None: not readable by this caller (needs CAN_MANAGE)
    caller: str | None = None  # SCIM Me userName (an email, or an SP's application id)
    caller_groups: list[str] | None = None  # SCIM Me groups (None: not known)
    notes: list[Finding] = field(default_factory=list)

    @property
    def app_running(self) -> bool:
        app = self.app
        if app is None:
            return True
        return (app.state in (None, "RUNNING")) and (app.compute_state in (None, "ACTIVE"))

    def can_use(self, identities: Iterable[str], groups: Iterable[str] | None = None) -> bool | None:
        """True/False when the ACL settles whether one of `identities` may use the app; else None.

        `groups`: the caller's groups (SCIM Me), when known; without them a grant to a group other
        than `users` leaves the answer open."""
        if self.permissions is None:
            return None
        names = {i.lower() for i in identities if i}
        usable = [g for g in self.permissions if any(level in USE_LEVELS for level in g.levels)]
        if any(g.principal.lower() in names for g in usable if g.kind != "group"):
            return True
        if any(g.kind == "group" and g.principal == "users" for g in usable):
            return True
        if groups is not None:
            member_of = {g.lower() for g in groups}
            return any(g.kind == "group" and g.principal.lower() in member_of for g in usable)
        return None if any(g.kind == "group" for g in usable) else False


@dataclass
class Connection:
    """The outcome of connecting: where the credentials came from and what the token says."""

    auth: AuthInfo
    token: TokenInfo | None
    findings: list[Finding] = field(default_factory=list)
    ok: bool = True
    auth_events: list[AuthEvent] = field(default_factory=list)  # the token calls connecting made
