"""No secret is ever written: what a save does with credentials before anything reaches a file.

Secrets hide in headers (`Authorization`, `X-Api-Key`, cookies), query strings (`?token=`),
form and JSON bodies (`"client_secret": …`), auth fields, variables, and in any value the
session's `Redactor` knows is secret (a token it fetched, a client secret it was given). Each is
turned into a `{{variable}}` reference (or, for a bearer `Authorization` header, into the `token`
auth method reading an environment variable) with a `Notice` saying which. As a last guard the
text about to be written is checked again; `SecretRefused` stops the write when anything is left.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from explorer.auth import METHODS
from explorer.collection.model import AuthRef, BasicAuth, Body, Notice, Pair, Request
from explorer.collection.variables import is_reference, var_name
from explorer.redact import Redactor, is_secret_field, is_secret_header

DEFAULT_TOKEN_ENV = "DATABRICKS_TOKEN"
_MASK_CHARS = ("…", "•••")


class SecretRefused(ValueError):
    """A save that would have written a secret. `str()` names the file and where the secret was."""


def _known_secret(value: str, redactor: Redactor) -> bool:
    """True when the redactor would change `value`: a secret it knows, or a JWT / PAT."""
    return bool(value) and redactor.scrub(value) != value


def _masked(value: str) -> bool:
    return any(mark in value for mark in _MASK_CHARS)


def _literal(value: str) -> bool:
    return bool(value.strip()) and not is_reference(value)


def sanitize_request(request: Request, redactor: Redactor) -> tuple[Request, list[Notice]]:
    """A copy of `request` that holds no secret, and what was changed."""
    notices: list[Notice] = []

    def note(message: str) -> None:
        notices.append(Notice(request.name, message))

    auth_method = request.auth_method
    headers: list[Pair] = []
    for header in request.headers:
        value = header.value
        lowered = header.name.strip().lower()
        if is_secret_header(header.name) and _literal(value):
            if _masked(value):  # e.g. the explorer's own HAR export: the run's identity applies
                note(f"the masked {header.name} header was left out (credentials are never stored)")
                continue
            scheme, _, credential = value.strip().partition(" ")
            if lowered == "authorization" and scheme.lower() == "bearer":
                env = _token_env(credential)
                if auth_method is None or auth_method.method in ("inherit", "token"):
                    auth_method = AuthRef("token", {"token_env": env})
                note(
                    "the Authorization header's bearer token was not stored: the request uses the "
                    f"`token` auth method reading ${env} instead"
                )
                continue
            name = var_name(header.name)
            prefix = (
                f"{scheme} " if lowered in ("authorization", "proxy-authorization") and credential else ""
            )
            headers.append(replace(header, value=f"{prefix}{{{{{name}}}}}"))
            note(
                f"the {header.name} header's value was not stored: it is now {{{{{name}}}}} (set it in .env)"
            )
            continue
        if _known_secret(value, redactor) and _literal(value):
            name = var_name(header.name)
            headers.append(replace(header, value=f"{{{{{name}}}}}"))
            note(f"the {header.name} header held a secret: it is now {{{{{name}}}}}")
            continue
        headers.append(header)

    params = [_clean_pair(p, redactor, "query parameter", note) for p in request.params]
    url = _clean_url(request.url, redactor, note)
    body = _clean_body(request.body, redactor, note)
    auth_method = sanitize_auth_ref(auth_method, note)
    auth = _clean_basic(request.auth, redactor, note)
    description = request.description
    if _known_secret(description, redactor):
        description = redactor.scrub(description)
        note("the notes held a secret: it was masked")
    clean = replace(
        request,
        url=url,
        params=params,
        headers=headers,
        body=body,
        auth_method=auth_method,
        auth=auth,
        description=description,
        assertions=_clean_json(request.assertions, redactor, note, "an assertion"),
    )
    return clean, notices


def _token_env(credential: str) -> str:
    """The env var a bearer token should come from: `$TOKEN` in a pasted command names it."""
    credential = credential.strip().strip("'\"")
    if credential.startswith("${") and credential.endswith("}"):
        credential = credential[2:-1]
    elif credential.startswith("$"):
        credential = credential[1:]
    else:
        return DEFAULT_TOKEN_ENV
    return credential if credential.replace("_", "").isalnum() else DEFAULT_TOKEN_ENV


def _clean_pair(pair: Pair, redactor: Redactor, what: str, note: Any) -> Pair:
    if _literal(pair.value) and (is_secret_field(pair.name) or _known_secret(pair.value, redactor)):
        name = var_name(pair.name)
        note(f"the {what} {pair.name!r} held a secret: it is now {{{{{name}}}}}")
        return replace(pair, value=f"{{{{{name}}}}}")
    return pair


def _clean_url(url: str, redactor: Redactor, note: Any) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is not None and parts.password and _literal(parts.password):
        host = parts.netloc.rpartition("@")[2]
        url = urlunsplit(parts._replace(netloc=host))
        note("the password in the URL was not stored (use the basic auth with {{password}})")
        parts = urlsplit(url)
    if parts is not None and parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        changed = False
        cleaned = []
        for name, value in pairs:
            if _literal(value) and (is_secret_field(name) or _known_secret(value, redactor)):
                variable = var_name(name)
                note(f"the URL's query parameter {name!r} held a secret: it is now {{{{{variable}}}}}")
                cleaned.append((name, f"{{{{{variable}}}}}"))
                changed = True
            else:
                cleaned.append((name, value))
        if changed:
            query = urlencode(cleaned, safe="{}$")
            url = urlunsplit(parts._replace(query=query))
    if _known_secret(url, redactor):
        raise SecretRefused("the URL holds a secret the explorer cannot turn into a variable; remove it")
    return url


def _clean_body(body: Body | None, redactor: Redactor, note: Any) -> Body | None:
    if body is None:
        return None
    form = [_clean_pair(p, redactor, "form field", note) for p in body.form_data] if body.form_data else None
    content = body.content
    if content:
        try:
            parsed = json.loads(content)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, (dict, list)):
            cleaned = _clean_json(parsed, redactor, note, "the JSON body")
            if cleaned != parsed:
                content = json.dumps(cleaned, indent=2, ensure_ascii=False)
        elif ("=" in content and "&" in content) or (body.content_type or "").endswith(
            "x-www-form-urlencoded"
        ):
            pairs = parse_qsl(content, keep_blank_values=True)
            if pairs:
                cleaned_pairs = [_clean_pair(Pair(k, v), redactor, "form field", note) for k, v in pairs]
                if any(p.value != v for p, (_, v) in zip(cleaned_pairs, pairs, strict=True)):
                    content = urlencode([(p.name, p.value) for p in cleaned_pairs], safe="{}$")
        if content and _known_secret(content, redactor):
            raise SecretRefused(
                "the body holds a secret the explorer cannot turn into a variable; replace it with {{name}}"
            )
    return replace(body, content=content, form_data=form)


def _clean_json(value: Any, redactor: Redactor, note: Any, where: str, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _clean_json(v, redactor, note, where, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v, redactor, note, where, key) for v in value]
    secret = isinstance(value, str) and ((key and is_secret_field(key)) or _known_secret(value, redactor))
    if secret and _literal(value):
        name = var_name(key or "secret")
        note(f"{where}'s field {key or '(value)'!r} held a secret: it is now {{{{{name}}}}}")
        return f"{{{{{name}}}}}"
    return value


def sanitize_auth_ref(ref: AuthRef | None, note: Any) -> AuthRef | None:
    if ref is None:
        return None
    method = METHODS.get(ref.method)
    if method is None:
        return ref
    kept = {}
    for name, value in ref.fields.items():
        spec = method.field(name)
        if spec is not None and spec.secret and _literal(str(value)):
            where = f"${spec.env_var}" if spec.env_var else ".env or a prompt at run time"
            note(f"the {ref.method} auth field {name!r} is secret and was not stored: it comes from {where}")
            continue
        kept[name] = value
    return AuthRef(ref.method, kept)


def _clean_basic(auth: BasicAuth | None, redactor: Redactor, note: Any) -> BasicAuth | None:
    if auth is None:
        return None
    if auth.password and _literal(auth.password):
        note("the basic auth password was not stored: it is now {{password}}")
        auth = replace(auth, password="{{password}}")
    if auth.token and _literal(auth.token):
        note("the bearer token was not stored: it is now {{bearer_token}}")
        auth = replace(auth, token="{{bearer_token}}")
    if auth.username and _known_secret(auth.username, redactor):
        auth = replace(auth, username="{{username}}")
    return auth


def sanitize_variables(
    variables: dict[str, str], redactor: Redactor, where: str
) -> tuple[dict[str, str], list[Notice]]:
    """Variables without secret values: secret-named or known-secret literals are left out."""
    kept: dict[str, str] = {}
    notices = []
    for name, value in variables.items():
        text = "" if value is None else str(value)
        # "code" is an OAuth code in a redirect, but as a variable it is nearly always a status code.
        secret_name = is_secret_field(name) and name.lower() != "code"
        if _literal(text) and (secret_name or _known_secret(text, redactor)):
            notices.append(
                Notice(where, f"variable {name!r} holds a secret and was not stored: set it in .env or --var")
            )
            continue
        kept[name] = text
    return kept, notices


def check_text(text: str, redactor: Redactor, where: str) -> None:
    """The last guard before a write: refuse when `text` still holds a known secret, JWT or PAT."""
    if _known_secret(text, redactor):
        raise SecretRefused(f"{where}: refused to write it: it still holds a secret")
