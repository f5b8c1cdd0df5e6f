"""What a load run sends and as whom: a `LoadPlan` from one request or from a collection.

    plan = plan_for_request(spec, identity)                  # `load URL` (the call command's options)
    plan = plan_from_collection(run_plan, default_identity)  # `load PATH` (a collection, --env, --folder)
    problems = refused_targets(plan, allowlist)              # guard rail: hosts a load may not go to

Every value is resolved here (variables, environments, .env) except what only exists at run time
per virtual user: extracted variables and the `{{$uuid}}`-style built-ins. Secrets never enter a
plan's requests or identities: a secret auth field is passed to the Locust processes in an
environment variable (`child_env`), and a request that would carry one in its text is refused.
No Locust import here: gevent's monkey-patching belongs in the Locust child process only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from explorer.auth import METHODS
from explorer.guard import Allowlist
from explorer.model import RequestSpec
from explorer.redact import Redactor

# The locustfile's hooks print machine-readable events on stderr after this prefix (one JSON object a line).
EVENT_PREFIX = "explorer-load: "
_RUNTIME_BUILTINS = ("$uuid", "$timestamp", "$randomInt")
_STATUS_PATTERN = re.compile(r"^[1-5](\d\d|xx)$")


class PlanError(ValueError):
    """A plan cannot be made; the message says what to change (one line, no secret)."""


@dataclass(frozen=True)
class Identity:
    """Who sends: an `explorer.auth.METHODS` name, its non-secret fields, and for secret fields the
    environment variable each is read from at run time (the method's own env vars apply too)."""

    method: str
    fields: Mapping[str, str] = field(default_factory=dict)
    secret_env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class LoadRequest:
    """One request of the flow each virtual user repeats."""

    name: str
    method: str
    url: str  # absolute; may hold {{runtime}} references
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    timeout: float = 30.0
    identity: str | None = "default"  # a key of LoadPlan.identities; None: no credentials
    expect: list[str] = field(default_factory=list)  # expected statuses ("201", "2xx"); [] means 2xx
    extractions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def runtime(self) -> bool:
        """Does any text hold a per-user variable or a built-in filled in at run time?"""
        texts = [self.url, self.body or "", *(v for _, v in self.params), *(v for _, v in self.headers)]
        return any("{{" in text for text in texts)


@dataclass
class LoadPlan:
    """The requests in order, the identities they use, and what the Locust processes need."""

    name: str
    requests: list[LoadRequest]
    identities: dict[str, Identity] = field(default_factory=dict)
    child_env: dict[str, str] = field(default_factory=dict, repr=False)  # secrets, for the children only
    source: str = ""  # the URL or collection it came from, for the report

    @property
    def host(self) -> str:
        """The origin of the first request: Locust's `--host`."""
        parts = urlsplit(self.requests[0].url)
        return f"{parts.scheme}://{parts.netloc}"

    def secrets(self) -> list[str]:
        return [v for v in self.child_env.values() if v]


def split_identity(method: str, fields: Mapping[str, str], key: str, child_env: dict[str, str]) -> Identity:
    """An Identity whose secret fields move into `child_env` under variables named for `key`."""
    if method not in METHODS:
        raise PlanError(f"unknown auth method {method!r}: use one of none, {', '.join(METHODS)}")
    auth_method = METHODS[method]
    if auth_method.interactive:
        raise PlanError(
            f"a load run cannot sign in with {method} in every Locust process: use profile "
            "(after `databricks auth login`), m2m or token"
        )
    if auth_method.forwarded:
        raise PlanError(f"{method} exists only deployed, inside the explorer's UI")
    plain: dict[str, str] = {}
    secret_env: dict[str, str] = {}
    for name, value in fields.items():
        spec = auth_method.field(name)
        if value is None or str(value) == "":
            continue
        if spec is not None and spec.secret:
            variable = f"EXPLORER_LOAD_{re.sub(r'[^A-Z0-9]', '_', key.upper())}_{name.upper()}"
            child_env[variable] = str(value)
            secret_env[name] = variable
        else:
            plain[name] = str(value)
    return Identity(method, plain, secret_env)


def identity_fields(ref: Any, run_plan: Any) -> dict[str, str]:
    """An `AuthRef`'s fields for a load run: its own (variables resolved), plus every field whose
    environment variable the collection's `.env` sets (a run's child processes see only those)."""
    from explorer.collection.identities import ref_fields
    from explorer.collection.variables import UndefinedVariable

    try:
        fields = ref_fields(ref, run_plan.scope, run_plan.dotenv)
    except UndefinedVariable as error:
        raise PlanError(str(error)) from None
    method = METHODS.get(ref.method)
    for spec in method.fields if method else ():
        if spec.env_var and not fields.get(spec.name) and run_plan.dotenv.get(spec.env_var):
            fields[spec.name] = run_plan.dotenv[spec.env_var]
    return fields


def plan_for_request(
    spec: RequestSpec, identity: Identity | None, child_env: dict[str, str] | None = None
) -> LoadPlan:
    """A plan of one request (`load URL`), sent as `identity` (None: no credentials)."""
    path = urlsplit(spec.url).path or "/"
    request = LoadRequest(
        name=f"{spec.method} {path}",
        method=spec.method,
        url=spec.url,
        params=list(spec.params),
        headers=list(spec.headers),
        body=spec.body,
        timeout=spec.timeout,
        identity="default" if identity else None,
    )
    identities = {"default": identity} if identity else {}
    return LoadPlan(request.name, [request], identities, dict(child_env or {}), spec.url)


def plan_from_collection(
    run_plan: Any,
    default_identity: Identity | None,
    *,
    child_env: dict[str, str] | None = None,
    redactor: Redactor | None = None,
) -> LoadPlan:
    """The plan of a collection (an `explorer.collection.runner.RunPlan`): its requests in order.

    `default_identity` is who sends requests without their own `auth_method` (the command line's
    options, else the environment's or the collection's `auth`). Raises PlanError.
    """
    from explorer.collection.runner import build_spec, preflight
    from explorer.collection.variables import UndefinedVariable
    from explorer.parse import InputError

    chosen = run_plan.requests()
    if not chosen:
        raise PlanError(f"{run_plan.collection.name}: the collection has no requests")
    problems = preflight(run_plan, chosen)
    if problems:
        raise PlanError(problems[0])
    env = dict(child_env or {})
    identities: dict[str, Identity] = {}
    if default_identity is not None:
        identities["default"] = default_identity
    runtime = set(_RUNTIME_BUILTINS)
    for _trail, request in chosen:
        runtime |= {str(e["var"]) for e in request.extractions}
    scope = _RuntimeScope(run_plan.scope, runtime)
    secrets: list[str] = []
    requests: list[LoadRequest] = []
    for trail, request in chosen:
        try:
            spec = build_spec(request, run_plan, scope, secrets.append)  # type: ignore[arg-type]
        except (UndefinedVariable, InputError) as error:
            raise PlanError(f"{request.name}: {error}") from None
        if secrets:
            raise PlanError(
                f"{request.name}: its `auth` puts a secret into the request; a load run sends "
                "credentials only through an identity (auth_method, or the auth options)"
            )
        ref = request.auth_method
        key: str | None = "default" if default_identity is not None else None
        if ref is not None and ref.method == "none":
            key = None
        elif ref is not None and ref.method != "inherit":
            key = f"id{len(identities)}"
            for existing, identity in identities.items():
                if identity.method == ref.method and dict(identity.fields) == dict(ref.fields):
                    key = existing
                    break
            if key not in identities:
                identities[key] = split_identity(ref.method, identity_fields(ref, run_plan), key, env)
        name = " / ".join([*trail, request.name])
        expect = [str(s) for a in request.assertions if "status" in a for s in _statuses(a["status"])]
        load_request = LoadRequest(
            name=name,
            method=spec.method,
            url=spec.url,
            params=list(spec.params),
            headers=list(spec.headers),
            body=spec.body,
            timeout=spec.timeout,
            identity=key,
            expect=expect,
            extractions=[dict(e) for e in request.extractions],
        )
        if redactor is not None and _holds_secret(load_request, redactor):
            raise PlanError(
                f"{request.name}: a secret value would be written into the locustfile; "
                "load runs send credentials only through an identity"
            )
        requests.append(load_request)
    return LoadPlan(run_plan.collection.name, requests, identities, env, str(run_plan.storage.describe()))


class _RuntimeScope:
    """The run plan's scope, but per-user variables and dynamic built-ins stay `{{name}}`."""

    def __init__(self, scope: Any, runtime: set[str]) -> None:
        self._scope = scope
        self._runtime = runtime

    def resolve(self, text: str, where: str = "") -> str:
        kept: list[str] = []

        def keep(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in self._runtime:
                kept.append(name)
                return f"\x00{len(kept) - 1}\x00"
            return match.group(0)

        protected = re.sub(r"\{\{\s*([^{}\s]+)\s*\}\}", keep, text or "")
        resolved = self._scope.resolve(protected, where)
        return re.sub(r"\x00(\d+)\x00", lambda m: "{{" + kept[int(m.group(1))] + "}}", resolved)


def _statuses(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if _STATUS_PATTERN.match(str(v))]


def _holds_secret(request: LoadRequest, redactor: Redactor) -> bool:
    texts = [
        request.url,
        request.body or "",
        *(v for _, v in request.params),
        *(v for _, v in request.headers),
    ]
    return any(redactor.scrub(text) != text for text in texts if text)


# --- guard rails ---------------------------------------------------------------------------------


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refused_targets(plan: LoadPlan, allowlist: Allowlist | None, *, deployed: bool = False) -> list[str]:
    """One line per host a load may not go to: off the allowlist (this machine's own loopback
    addresses are allowed locally, never deployed)."""
    problems: list[str] = []
    seen: set[str] = set()
    for request in plan.requests:
        parts = urlsplit(request.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in seen:
            continue
        seen.add(origin)
        if "{{" in request.url.split("/", 3)[2 if "://" in request.url else 0]:
            problems.append(
                f"{request.name}: its host comes from a per-user variable; a load run sends only to "
                "hosts checked before it starts"
            )
            continue
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"{request.name}: {request.url[:80]} is not an http(s) URL")
            continue
        if not deployed and is_loopback(request.url):
            continue
        if allowlist is not None and allowlist.allows(request.url):
            continue
        why = allowlist.explain(request.url) if allowlist is not None else "no allowlist"
        problems.append(f"refused to load {origin}: {why}")
    return problems


ALLOWLIST_ENV = "EXPLORER_LOAD_ALLOWLIST"  # the parent's allowlist, for the children's auth calls


def restrict_children(plan: LoadPlan, allowlist: Allowlist | None) -> None:
    """Locust's processes check every host their auth contacts against the caller's allowlist."""
    if allowlist is not None:
        plan.child_env[ALLOWLIST_ENV] = ",".join(allowlist.patterns)
