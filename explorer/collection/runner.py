"""Running a collection: requests in order through `ExplorerSession.send`, assertions, extractions.

    plan = RunPlan.load(FolderStorage("examples/sandbox-demo"), env="sandbox", cli_vars={...})
    report = run(plan, identities, on_result=print)

Nothing is sent before every request's variables are known to resolve (pre-flight): an
undefined variable is one clear error naming the request and the variable. Values extracted
from a response feed the requests after it. Every request goes through the same engine as a
single send (`session.send`), so it gets the allowlist, the redaction and the diagnosis.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from explorer.collection.assertions import OpenAPIDocument, Outcome, evaluate
from explorer.collection.extract import ExtractionFailed, extract
from explorer.collection.files import CollectionError, load_collection, load_dotenv, load_environment
from explorer.collection.identities import Identities
from explorer.collection.model import AuthRef, Collection, Environment, LoadError, Pair, Request
from explorer.collection.storage import Storage
from explorer.collection.variables import Scope, UndefinedVariable, references
from explorer.model import Exchange, Finding, RequestSpec
from explorer.parse import InputError, normalize_url
from explorer.redact import is_secret_field, is_secret_header

DEFAULT_TIMEOUT = 30.0


@dataclass
class RequestResult:
    """One request of a run: what was sent, what came, what held."""

    name: str
    folder: tuple[str, ...]
    method: str
    url: str  # as sent, secrets scrubbed
    exchange: Exchange | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # why nothing was sent, or why no response came
    extracted: list[str] = field(default_factory=list)  # variable names set from this response
    skipped: bool = False  # not run (--bail after an earlier failure)

    @property
    def status(self) -> int | None:
        return self.exchange.response.status if self.exchange and self.exchange.response else None

    @property
    def elapsed_ms(self) -> float | None:
        return self.exchange.response.elapsed_ms if self.exchange and self.exchange.response else None

    @property
    def passed(self) -> bool:
        if self.skipped:
            return False
        return self.status is not None and self.error is None and all(o.passed for o in self.outcomes)

    @property
    def failed_outcomes(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]

    @property
    def full_name(self) -> str:
        return " / ".join([*self.folder, self.name])


@dataclass
class RunReport:
    collection: str
    environment: str | None
    results: list[RequestResult]
    load_errors: list[LoadError]
    started_at: float
    seconds: float

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results) and not self.load_errors

    def counts(self) -> dict[str, int]:
        outcomes = [o for r in self.results for o in r.outcomes]
        return {
            "requests": len(self.results),
            "passed": sum(r.passed for r in self.results),
            "failed": sum(not r.passed and not r.skipped for r in self.results),
            "skipped": sum(r.skipped for r in self.results),
            "assertions": len(outcomes),
            "assertions_failed": sum(not o.passed for o in outcomes),
        }


@dataclass
class RunPlan:
    """A loaded collection, the chosen environment and the variable layers below extractions."""

    collection: Collection
    environment: Environment | None
    scope: Scope  # collection < environment < .env < --var
    dotenv: dict[str, str]
    storage: Storage | None = None
    folder: str | None = None
    timeout: float | None = None  # --timeout: overrides files when given
    auth_from_command_line: bool = False  # --auth given: the files' default identity is not used

    @classmethod
    def load(
        cls,
        storage: Storage,
        *,
        env: str | None = None,
        cli_vars: Mapping[str, str] | None = None,
        dotenv: Mapping[str, str] | None = None,
        folder: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> RunPlan:
        """Raises CollectionError for a missing collection or environment."""
        import os

        collection = load_collection(storage)
        environment = load_environment(storage, env) if env else None
        values = {**load_dotenv(storage), **(dotenv or {})}
        process_env = dict(os.environ if environ is None else environ)
        scope = Scope(
            [
                collection.variables,
                environment.variables if environment else {},
                values,
                dict(cli_vars or {}),
            ],
            environ={**process_env, **values},
        )
        return cls(collection, environment, scope, values, storage, folder)

    def requests(self) -> list[tuple[tuple[str, ...], Request]]:
        """The requests to run, in order; `folder` keeps one folder (by name or path)."""
        chosen = self.collection.requests()
        if not self.folder:
            return chosen
        wanted = self.folder.strip("/")
        segments = tuple(wanted.split("/"))
        picked = [
            (trail, r)
            for trail, r in chosen
            if trail[: len(segments)] == segments or wanted in trail or r.path.startswith(wanted + "/")
        ]
        if not picked:
            names = sorted({"/".join(t) for t, _ in chosen if t})
            raise CollectionError(
                f"--folder {self.folder!r} matches no folder (folders: {', '.join(names) or 'none'})"
            )
        return picked

    def default_auth(self) -> AuthRef | None:
        if self.environment and self.environment.auth:
            return self.environment.auth
        return self.collection.defaults.auth


# --- pre-flight ---------------------------------------------------------------------------------


def request_texts(request: Request, collection: Collection) -> list[tuple[str, str]]:
    """(where, text) of everything in a request that may hold variables."""
    texts = [("url", request.url)]
    texts += [(f"param {p.name}", p.value) for p in request.params if p.enabled]
    texts += [(f"param name {p.name}", p.name) for p in request.params if p.enabled]
    headers = _merged_headers(collection.defaults.headers, request.headers)
    texts += [(f"header {h.name}", h.value) for h in headers]
    if request.body is not None:
        if request.body.content:
            texts.append(("body", request.body.content))
        texts += [(f"form field {p.name}", p.value) for p in request.body.form_data or [] if p.enabled]
    if request.auth is not None:
        texts += [
            ("auth", request.auth.username),
            ("auth", request.auth.password),
            ("auth", request.auth.token),
        ]
    if request.auth_method is not None:
        texts += [(f"auth_method {k}", v) for k, v in request.auth_method.fields.items()]
    return texts


def preflight(plan: RunPlan, chosen: list[tuple[tuple[str, ...], Request]]) -> list[str]:
    """Every undefined variable, as 'request: message'; extracted names count from where they are set."""
    known = plan.scope.names()
    problems = []
    for _trail, request in chosen:
        for where, text in request_texts(request, plan.collection):
            for name in references(text):
                if name in known or (name.startswith("$") and plan.scope.defines(name)):
                    continue
                hint = (
                    f" (environment variable {name[5:]} is not set)"
                    if name.startswith("$env.")
                    else ""
                    if not name.startswith("$")
                    else " (unknown built-in)"
                )
                problems.append(f"{request.name}: {UndefinedVariable(name, where)}{hint}")
                known.add(name)  # once per variable is enough
        for assertion in request.assertions:
            for text in _strings(assertion):
                for name in references(text):
                    if name not in known and not (name.startswith("$") and plan.scope.defines(name)):
                        problems.append(f"{request.name}: {UndefinedVariable(name, 'an assertion')}")
                        known.add(name)
        known |= {str(e["var"]) for e in request.extractions}
    default = plan.default_auth() if not plan.auth_from_command_line else None
    for field_name, value in (default.fields if default else {}).items():
        for name in references(value):
            if name not in known and not plan.scope.defines(name):
                problems.append(f"auth: {UndefinedVariable(name, f'auth field {field_name}')}")
    return problems


# --- building a request -------------------------------------------------------------------------


def _merged_headers(defaults: list[Pair], own: list[Pair]) -> list[Pair]:
    names = {h.name.lower() for h in own if h.enabled}
    return [h for h in defaults if h.enabled and h.name.lower() not in names] + [h for h in own if h.enabled]


@lru_cache(maxsize=4096)
def _normalized(url: str) -> str:
    """`normalize_url`, once per distinct URL of a run (most requests share a few)."""
    return normalize_url(url)


def build_spec(request: Request, plan: RunPlan, scope: Scope, secrets: Callable[[str], None]) -> RequestSpec:
    """The RequestSpec to send; raises UndefinedVariable or InputError."""

    def value(text: str, where: str) -> str:
        return scope.resolve(text, f"{request.name} ({where})")

    url = _normalized(value(request.url, "url"))
    params = [
        (value(p.name, "param"), value(p.value, f"param {p.name}")) for p in request.params if p.enabled
    ]
    headers = [
        (h.name, value(h.value, f"header {h.name}"))
        for h in _merged_headers(plan.collection.defaults.headers, request.headers)
    ]
    lowered = {name.lower() for name, _ in headers}
    body = None
    if request.body is not None:
        if request.body.form_data is not None and not request.body.content:
            from urllib.parse import urlencode

            pairs = [
                (value(p.name, "form"), value(p.value, f"form field {p.name}"))
                for p in request.body.form_data
                if p.enabled
            ]
            body = urlencode(pairs)
            if "content-type" not in lowered:
                headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        elif request.body.content is not None:
            body = value(request.body.content, "body")
            if request.body.content_type and "content-type" not in lowered:
                headers.append(("Content-Type", request.body.content_type))
    if request.auth is not None and "authorization" not in lowered:
        if request.auth.type == "bearer_token":
            token = value(request.auth.token, "auth token")
            secrets(token)
            headers.append(("Authorization", f"Bearer {token}"))
        else:
            user, password = (
                value(request.auth.username, "auth"),
                value(request.auth.password, "auth password"),
            )
            secrets(password)
            encoded = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            secrets(encoded)
            headers.append(("Authorization", f"Basic {encoded}"))
    timeout = plan.timeout or request.timeout or plan.collection.defaults.timeout or DEFAULT_TIMEOUT
    return RequestSpec(
        method=request.method, url=url, params=params, headers=headers, body=body, timeout=timeout
    )


# --- running ------------------------------------------------------------------------------------


def run(
    plan: RunPlan,
    identities: Identities,
    *,
    bail: bool = False,
    on_result: Callable[[RequestResult], None] | None = None,
) -> RunReport:
    """Run the plan's requests in order. Raises CollectionError when pre-flight finds a problem."""
    chosen = plan.requests()
    problems = preflight(plan, chosen)
    if problems:
        raise CollectionError("; ".join(problems))
    started_at, started = time.time(), time.perf_counter()
    scope = plan.scope.with_layer({})  # extractions go here
    openapi = _OpenAPI(plan, identities)
    results: list[RequestResult] = []
    stop = False
    for trail, request in chosen:
        if stop:
            results.append(
                RequestResult(
                    request.name, trail, request.method, request.url, skipped=True, error="not run (--bail)"
                )
            )
            continue
        result = run_one(request, trail, plan, scope, identities, openapi)
        results.append(result)
        if on_result is not None:
            on_result(result)
        stop = bail and not result.passed
    return RunReport(
        plan.collection.name,
        plan.environment.name if plan.environment else None,
        results,
        list(plan.collection.errors),
        started_at,
        time.perf_counter() - started,
    )


def run_one(
    request: Request,
    trail: tuple[str, ...],
    plan: RunPlan,
    scope: Scope,
    identities: Identities,
    openapi: _OpenAPI | None = None,
) -> RequestResult:
    result = RequestResult(request.name, trail, request.method, request.url)
    session, connection = identities.for_request(request.auth_method, plan.default_auth(), scope)
    try:
        spec = build_spec(request, plan, scope, session.redactor.add)
    except (UndefinedVariable, InputError) as error:
        result.error = f"not sent: {error}"
        return result
    if connection is not None and not connection.ok:
        result.findings = list(connection.findings)
        result.error = f"not sent: could not authenticate with {connection.auth.method}"
        return result
    exchange = session.send(spec)
    result.exchange = exchange
    result.url = exchange.request.url  # as recorded: credentials masked, secrets scrubbed
    result.findings = list(exchange.findings)
    if exchange.response is None:
        result.error = exchange.error or "no response"
    document = openapi.get() if openapi is not None and _wants_openapi(request) else None
    problem = openapi.problem if openapi is not None else ""
    result.outcomes = [
        _evaluate(a, exchange, document, scope, request.name, problem) for a in request.assertions
    ]
    for spec_ in request.extractions:
        try:
            name, value = extract(spec_, exchange)
        except ExtractionFailed as error:
            result.outcomes.append(Outcome(f"extract {spec_['var']}", False, str(error)))
            continue
        source = str(spec_.get("json") or spec_.get("header") or "")
        if is_secret_field(name) or is_secret_field(source.rsplit(".", 1)[-1]) or is_secret_header(source):
            session.redactor.add(value)  # e.g. {var: access_token, json: $.access_token}: never shown
        scope.set(name, value)
        result.extracted.append(name)
    return result


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for v in value for t in _strings(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _strings(v)]
    return []


def _evaluate(
    assertion: dict,
    exchange: Exchange,
    document: OpenAPIDocument | None,
    scope: Scope,
    name: str,
    problem: str = "",
) -> Outcome:
    """An assertion with `{{variables}}` in its expected values resolved (e.g. an extracted id)."""
    if "openapi_schema" in assertion and document is None and problem:
        from explorer.collection.assertions import describe

        return Outcome(
            describe(assertion), False, f"expected the app's OpenAPI document, got none: {problem}"
        )
    try:
        resolved = {k: _resolve_value(v, scope, name) for k, v in assertion.items()}
    except UndefinedVariable as error:
        from explorer.collection.assertions import describe

        return Outcome(describe(assertion), False, str(error))
    return evaluate(resolved, exchange, document)


def _resolve_value(value: object, scope: Scope, name: str) -> object:
    if isinstance(value, str):
        return scope.resolve(value, f"{name} (assertion)")
    if isinstance(value, list):
        return [_resolve_value(v, scope, name) for v in value]
    if isinstance(value, dict):
        return {k: _resolve_value(v, scope, name) for k, v in value.items()}
    return value


def _wants_openapi(request: Request) -> bool:
    return any("openapi_schema" in a for a in request.assertions)


class _OpenAPI:
    """The collection's OpenAPI document, fetched (or read) once, on first need."""

    def __init__(self, plan: RunPlan, identities: Identities) -> None:
        self.plan, self.identities = plan, identities
        self.document: OpenAPIDocument | None = None
        self.problem = ""
        self._tried = False

    def get(self) -> OpenAPIDocument | None:
        if self._tried:
            return self.document
        self._tried = True
        source = self.plan.collection.openapi
        if not source:
            self.problem = "collection.yaml names no openapi document"
            return None
        try:
            location = self.plan.scope.resolve(source, "collection.yaml openapi")
        except UndefinedVariable as error:
            self.problem = str(error)
            return None
        from explorer.collection.importers.openapi import load_document

        session, _connection = self.identities.for_request(None, self.plan.default_auth(), self.plan.scope)
        try:
            doc, where = load_document(location, session, self.plan.storage)
        except (CollectionError, InputError) as error:
            self.problem = str(error)
            return None
        self.document = OpenAPIDocument(doc, where)
        return self.document


def variables_used(collection: Collection) -> dict[str, list[str]]:
    """Variable name -> the requests using it (for `run --list` style help and docs)."""
    used: dict[str, list[str]] = {}
    for _trail, request in collection.requests():
        for _where, text in request_texts(request, collection):
            for name in references(text):
                used.setdefault(name, []).append(request.name)
    return used
