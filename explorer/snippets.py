"""Code that repeats the current request outside the explorer: curl, Python requests, Python SDK.

Tokens and secrets never appear in a snippet: credentials come from the environment, the
Databricks CLI or the SDK, and credential headers of the request are dropped (auth re-adds
them). Every user-supplied value is quoted for its language (`shlex.quote` for the shell,
`repr` for Python), so a snippet runs as printed.

Conventions, by auth method:

- `m2m` and `app` (the Apps platform injects the same variables): `DATABRICKS_HOST`,
  `DATABRICKS_CLIENT_ID`, `DATABRICKS_CLIENT_SECRET`. curl and requests first get a token from
  `$DATABRICKS_HOST/oidc/v1/token` (client credentials, `scope` = the custom scopes or
  `all-apis`) into `$TOKEN`; the SDK snippet uses `WorkspaceClient(auth_type="oauth-m2m")` and
  `w.config.authenticate()`. A known workspace host becomes the default of `DATABRICKS_HOST`;
  a host without scheme (as the platform may set it) gets https://.
- `profile`: curl runs `databricks auth token --profile P`; requests and the SDK use
  `Config(profile=P)` / `WorkspaceClient(profile=P)` and `authenticate()`.
- `token`, `user`, `browser`, `federated`: the bearer token is read from `DATABRICKS_TOKEN`
  (`Authorization: Bearer $DATABRICKS_TOKEN`); the SDK snippet uses
  `Config(host=…, token=os.environ["DATABRICKS_TOKEN"], auth_type="pat")` and `authenticate()`.

Redirects are not followed (curl's default; `allow_redirects=False` in Python): a 302 to the
sign-in page means the token was refused, as in the explorer itself.
"""

from __future__ import annotations

import ast
import json
import math
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from explorer.auth import METHODS
from explorer.model import RequestSpec
from explorer.parse import url_with_params
from explorer.redact import Redactor, is_secret_header

LANGS = ("curl", "python", "sdk")
_JSON_PRINTER = "python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access_token\"])'"
_CONTINUE = " \\\n  "


@dataclass
class _Request:
    """The parts of a RequestSpec a snippet shows, credential headers removed."""

    method: str
    url: str
    params: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: str | None
    timeout: float


@dataclass
class _Auth:
    kind: str  # "m2m" | "profile" | "env-token"
    method: str
    host: str | None
    profile: str
    scopes: list[str]


def render_snippet(
    spec: RequestSpec,
    auth_method: str,
    lang: str,
    *,
    host: str | None,
    profile: str | None = None,
    scopes: list[str] | None = None,
    redactor: Redactor | None = None,
) -> str:
    """The request as a runnable `lang` snippet ("curl", "python" or "sdk") for `auth_method`.

    `host` is the workspace host (for the token endpoint and the SDK); `profile` the config
    profile for the `profile` method; `scopes` custom OAuth scopes. A `redactor` scrubs any
    known secret that the user typed into the URL, headers or body.
    """
    if lang not in LANGS:
        raise ValueError(f"Unknown snippet language {lang!r}: use one of {', '.join(LANGS)}")
    method = METHODS.get(auth_method)
    if method is None:
        raise ValueError(f"Unknown auth method {auth_method!r}: use one of {', '.join(METHODS)}")
    request = _request(spec, redactor or Redactor())
    auth = _Auth(method.snippet, auth_method, host, profile or "DEFAULT", list(scopes or []))
    renderers: dict[str, Callable[[_Request, _Auth], str]] = {
        "curl": _curl,
        "python": _python_requests,
        "sdk": _python_sdk,
    }
    return renderers[lang](request, auth)


def _request(spec: RequestSpec, redactor: Redactor) -> _Request:
    headers = [(k, redactor.scrub(v)) for k, v in spec.headers if not is_secret_header(k)]
    params = [(k, redactor.scrub(str(v))) for k, v in spec.params]
    body = redactor.scrub(spec.body) if spec.body else None
    method = (spec.method or "GET").strip().upper() or "GET"
    return _Request(method, redactor.scrub_url(spec.url), params, headers, body, spec.timeout)


def _scope_text(auth: _Auth) -> str:
    return " ".join(auth.scopes) or "all-apis"


# --- curl ------------------------------------------------------------------------------------


def _curl(request: _Request, auth: _Auth) -> str:
    lines = [*_curl_auth(auth), _curl_call(request, _curl_bearer(auth))]
    return "\n".join(lines) + "\n"


def _curl_auth(auth: _Auth) -> list[str]:
    if auth.kind == "env-token":
        return [
            "# The bearer token comes from the environment: export DATABRICKS_TOKEN=… (never paste it here)."
        ]
    if auth.kind == "profile":
        command = f"databricks auth token --profile {shlex.quote(auth.profile)}"
        return [
            f"# The Databricks CLI supplies a token for profile {auth.profile!r}.",
            f'TOKEN="$({command} | {_JSON_PRINTER})"',
        ]
    token_request = _CONTINUE.join(
        [
            'curl -sS --fail -u "$DATABRICKS_CLIENT_ID:$DATABRICKS_CLIENT_SECRET"',
            "--data-urlencode grant_type=client_credentials",
            f"--data-urlencode {shlex.quote('scope=' + _scope_text(auth))}",
            '"${DATABRICKS_HOST%/}/oidc/v1/token"',
        ]
    )
    return [
        "# Service principal (OAuth M2M): DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET come from the environment.",
        _curl_host_default(auth),
        'case "$DATABRICKS_HOST" in http://* | https://*) ;; *) DATABRICKS_HOST="https://$DATABRICKS_HOST" ;; esac',
        f'TOKEN="$({token_request} | {_JSON_PRINTER})"',
    ]


def _curl_host_default(auth: _Auth) -> str:
    if not auth.host:
        return ': "${DATABRICKS_HOST:?set DATABRICKS_HOST to the workspace URL}"'
    return f'[ -n "${{DATABRICKS_HOST:-}}" ] || export DATABRICKS_HOST={shlex.quote(auth.host)}'


def _curl_bearer(auth: _Auth) -> str:
    variable = "DATABRICKS_TOKEN" if auth.kind == "env-token" else "TOKEN"
    return f'-H "Authorization: Bearer ${variable}"'


def _curl_call(request: _Request, bearer: str) -> str:
    parts = ["curl -sS -i" + _curl_method(request)]
    parts[0] += (
        f" --max-time {_number(request.timeout)} {shlex.quote(url_with_params(request.url, request.params))}"
    )
    parts.append(bearer)
    parts.extend(f"-H {shlex.quote(_curl_header(k, v))}" for k, v in request.headers)
    if request.body is not None and _json_value(request.body) is not None and not _has_content_type(request):
        parts.append("-H 'Content-Type: application/json'")
    if request.body is not None:
        # curl reads a file for data starting with "@" unless told the data is raw.
        option = "--data-raw" if request.body.startswith("@") else "--data-binary"
        parts.append(f"{option} {shlex.quote(request.body)}")
    return _CONTINUE.join(parts)


def _curl_method(request: _Request) -> str:
    if request.method == "HEAD" and request.body is None:
        return " --head"  # `-X HEAD` would make curl wait for a body that never comes
    if request.method != "GET" or request.body is not None:
        return f" -X {shlex.quote(request.method)}"
    return ""


def _curl_header(name: str, value: str) -> str:
    # "Name:" tells curl to remove a header; "Name;" is how it sends one with an empty value.
    return f"{name}: {value}" if value else f"{name};"


# --- Python ----------------------------------------------------------------------------------


def _python_requests(request: _Request, auth: _Auth) -> str:
    if auth.kind == "env-token":
        imports, setup = ["import os", "", "import requests"], [_PY_ENV_TOKEN]
    elif auth.kind == "profile":
        imports = ["import requests", "from databricks.sdk.core import Config"]
        setup = [f"# The SDK supplies credentials for profile {auth.profile!r}.", _py_profile(auth)]
    else:
        imports, setup = ["import os", "", "import requests"], [_py_m2m_token(auth)]
    return _python_file(imports, setup, request)


def _python_sdk(request: _Request, auth: _Auth) -> str:
    if auth.kind == "env-token":
        imports = ["import os", "", "import requests", "from databricks.sdk.core import Config"]
        host = _py(auth.host) if auth.host else 'os.environ["DATABRICKS_HOST"]'
        setup = [
            "# The bearer token comes from the environment: DATABRICKS_TOKEN (never paste it here).",
            f'config = Config(host={host}, token=os.environ["DATABRICKS_TOKEN"], auth_type="pat")',
            "headers = config.authenticate()",
        ]
    else:
        imports = ["import requests", "from databricks.sdk import WorkspaceClient"]
        setup = _py_sdk_client(auth)
        if auth.kind == "m2m" and auth.host:
            imports = ["import os", "", *imports]
    return _python_file(imports, setup, request)


_PY_ENV_TOKEN = (
    "# The bearer token comes from the environment: DATABRICKS_TOKEN (never paste it here).\n"
    'headers = {"Authorization": "Bearer " + os.environ["DATABRICKS_TOKEN"]}'
)


def _py_profile(auth: _Auth) -> str:
    return f"headers = Config(profile={_py(auth.profile)}).authenticate()"


def _py_m2m_token(auth: _Auth) -> str:
    return "\n".join(
        [
            "# Service principal (OAuth M2M): DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET come from the environment.",
            _py_host_default(auth),
            'host = os.environ["DATABRICKS_HOST"]',
            'if "://" not in host:  # the Apps platform may set it without a scheme',
            '    host = "https://" + host',
            "token_response = requests.post(",
            '    host.rstrip("/") + "/oidc/v1/token",',
            '    auth=(os.environ["DATABRICKS_CLIENT_ID"], os.environ["DATABRICKS_CLIENT_SECRET"]),',
            f'    data={{"grant_type": "client_credentials", "scope": {_py(_scope_text(auth))}}},',
            "    timeout=30,",
            ")",
            "token_response.raise_for_status()",
            'headers = {"Authorization": "Bearer " + token_response.json()["access_token"]}',
        ]
    )


def _py_host_default(auth: _Auth) -> str:
    if not auth.host:
        return "# DATABRICKS_HOST must be set to the workspace URL."
    return f'os.environ.setdefault("DATABRICKS_HOST", {_py(auth.host)})'


def _py_sdk_client(auth: _Auth) -> list[str]:
    if auth.kind == "profile":
        return [
            f"# The SDK supplies credentials for profile {auth.profile!r}.",
            f"w = WorkspaceClient(profile={_py(auth.profile)})",
            "headers = w.config.authenticate()",
        ]
    arguments = 'auth_type="oauth-m2m"' + (f", scopes={_py(auth.scopes)}" if auth.scopes else "")
    lines = [
        "# Service principal (OAuth M2M): DATABRICKS_HOST, DATABRICKS_CLIENT_ID and",
        "# DATABRICKS_CLIENT_SECRET come from the environment (a Databricks App has them already).",
    ]
    if auth.host:
        lines.append(_py_host_default(auth))
    return [*lines, f"w = WorkspaceClient({arguments})", "headers = w.config.authenticate()"]


def _python_file(imports: list[str], setup: list[str], request: _Request) -> str:
    return "\n".join([*imports, "", *setup, "", _py_call(request), _PY_PRINT]) + "\n"


_PY_PRINT = "print(response.status_code, response.reason)\nprint(response.text)"


def _py_call(request: _Request) -> str:
    extra = "".join(f", {_py(k)}: {_py(v)}" for k, v in request.headers)
    args = [_py(request.method), _py(request.url)]
    if request.params:
        args.append(f"params={_py(request.params)}")
    args.append(f"headers={{**headers{extra}}}")
    if request.body is not None:
        value = _json_value(request.body)
        if value is not None and _is_json_content(request) and _literal_round_trips(value):
            args.append(f"json={_py(value.value)}")
        else:
            args.append(f"data={_py(request.body)}")
    args += [f"timeout={_number(request.timeout)}", "allow_redirects=False"]
    body = "".join(f"    {arg},\n" for arg in args)
    return f"response = requests.request(\n{body})"


# --- helpers ---------------------------------------------------------------------------------


def _json_value(body: str) -> Any:
    """The parsed body when it is JSON (wrapped so JSON `null` still counts), else None."""
    try:
        return _Wrapped(json.loads(body))
    except (ValueError, RecursionError):
        return None


@dataclass
class _Wrapped:
    value: Any

    def __repr__(self) -> str:
        return repr(self.value)


def _literal_round_trips(wrapped: _Wrapped) -> bool:
    # json.loads turns 1e999 into inf, which has no Python literal; fall back to data= then.
    try:
        return ast.literal_eval(repr(wrapped.value)) == wrapped.value
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return False


def _py(value: Any) -> str:
    """A Python literal for a JSON-like value, double-quoted like the code around it."""
    if isinstance(value, str):
        text = repr(value)
        return f'"{text[1:-1]}"' if "'" not in value and '"' not in value else text
    if isinstance(value, (list, tuple)):
        items = ", ".join(_py(v) for v in value)
        return f"({items}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{items}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _has_content_type(request: _Request) -> bool:
    return any(k.lower() == "content-type" for k, _v in request.headers)


def _is_json_content(request: _Request) -> bool:
    types = [v.lower() for k, v in request.headers if k.lower() == "content-type"]
    return not types or all("json" in t for t in types)


def _number(value: float) -> str:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return "30"
    return str(int(value)) if float(value).is_integer() else str(value)
