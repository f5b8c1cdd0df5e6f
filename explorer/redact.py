"""The one place that knows what is secret and how to mask it.

Everything that leaves the engine (error messages, history, exports, snippets, logs) passes
through here:

- `mask(secret)` turns a secret into a short recognisable form (`eyJh…x9Q`), never the value.
- `redact_headers(headers)` masks the values of credential-carrying headers.
- `Redactor` remembers the secrets of a session and scrubs them (and anything that merely looks
  like a JWT or a personal access token) out of free text.
- `install_log_filter(redactor)` makes the `logging` module scrub every record.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import traceback
import weakref
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

# Headers whose value is a credential. Compared lower-case.
SECRET_HEADERS: frozenset[str] = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-forwarded-access-token",
        "cookie",
        "set-cookie",
        "x-databricks-azure-sp-management-token",
        "x-databricks-gcp-sa-access-token",
        "x-databricks-org-id-token",
        "x-api-key",
        "api-key",
    }
)
# Any other header whose name says it carries a credential is treated as one too.
_SECRET_NAME_HINTS = ("token", "secret", "password", "api-key", "apikey", "credential")

# Query parameters, form fields and JSON keys whose value is a credential. Compared lower-case.
SECRET_FIELDS: frozenset[str] = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "subject_token",
        "actor_token",
        "client_secret",
        "code",
        "code_verifier",
        "password",
        "secret",
        "api_key",
        "apikey",
    }
)

# Shorter secrets are masked completely: showing 7 characters of them would give too much away.
MASK_MIN_LENGTH = 24
MASK_SHORT = "•••"
# Shorter "secrets" are not scrubbed from free text: replacing a 3-letter word everywhere would
# garble every message while protecting nothing real.
SCRUB_MIN_LENGTH = 6

# A JWT header is compact JSON, so it starts "eyJ" ('{"'); the claims segment may not ('{}' is
# "e30"). Also matches a JWT cut short by display truncation (header and part of the claims).
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?")
# A Databricks personal access token: "dapi" + hex digits (Azure appends "-2" and the like). The one
# definition: what explorer.tokens classifies as a PAT is what is scrubbed here.
PAT_PATTERN = re.compile(r"dapi[0-9a-zA-Z]{8,}(?:-\d+)?")
# An HTTP Basic credential is base64 of "id:secret": scrubbed whole wherever it appears.
_BASIC_CREDENTIAL = re.compile(r"(?i)(\bBasic\s+)([A-Za-z0-9+/]{8,}={0,2})")
_MASKED = re.compile(r"[^…•\s]{0,4}…[^…•\s]{0,3}|•••")
_AUTH_SCHEME = re.compile(r"^(Bearer|Basic|Token|Negotiate|Digest)(\s+)(.*)$", re.IGNORECASE | re.DOTALL)


def mask(secret: str | None) -> str:
    """A recognisable but useless form of `secret`: first 4 + "…" + last 3, or "•••" when short.

    `None` and "" give "" so callers can tell "no secret" from "a secret".
    """
    if not secret:
        return ""
    secret = str(secret)
    if _MASKED.fullmatch(secret):  # already masked: masking twice would lose the hint
        return secret
    if len(secret) < MASK_MIN_LENGTH:
        return MASK_SHORT
    return f"{secret[:4]}…{secret[-3:]}"


def is_secret_header(name: str) -> bool:
    """True when a header with this name carries a credential."""
    lowered = name.strip().lower()
    return lowered in SECRET_HEADERS or any(hint in lowered for hint in _SECRET_NAME_HINTS)


def mask_header_value(name: str, value: str) -> str:
    """The masked form of one header value; keeps the auth scheme and cookie names readable."""
    lowered = name.strip().lower()
    if lowered == "cookie":
        return "; ".join(_mask_cookie_pair(pair.strip()) for pair in value.split(";") if pair.strip())
    if lowered == "set-cookie":
        first, sep, attributes = value.partition(";")
        return _mask_cookie_pair(first.strip()) + sep + attributes
    scheme = _AUTH_SCHEME.match(value.strip())
    if scheme:
        return f"{scheme.group(1)} {mask(scheme.group(3).strip())}"
    return mask(value)


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Copy of `headers` with credential values masked ("Bearer eyJh…x9Q")."""
    return [(k, mask_header_value(k, v) if is_secret_header(k) else v) for k, v in headers]


def is_secret_field(name: object) -> bool:
    """True when a query parameter, form field or JSON key with this name holds a credential."""
    if not isinstance(name, str):
        return False
    lowered = name.strip().lower()
    # Suffixes, not substrings: "access_token" is secret, "token_type" and "max_tokens" are not.
    return (
        lowered in SECRET_FIELDS
        or lowered.replace("_", "-") in SECRET_HEADERS
        or lowered.endswith(("token", "secret", "password"))
    )


def redact_url(url: str) -> str:
    """`url` with the values of credential query parameters (token, code, …) masked."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    return urlunsplit(parts._replace(query=redact_form(parts.query)))


def redact_form(text: str) -> str:
    """A form-encoded string (`a=1&code=…`) with credential values masked; layout kept."""
    pairs = []
    for pair in text.split("&"):
        name, sep, value = pair.partition("=")
        secret = sep and value and is_secret_field(unquote_plus(name))
        pairs.append(f"{name}={quote(mask(unquote_plus(value)), safe='')}" if secret else pair)
    return "&".join(pairs)


def redact_json(value: Any) -> Any:
    """A copy of a JSON value with the values of credential keys masked, at any depth."""
    if isinstance(value, dict):
        return {
            k: mask(v) if isinstance(v, str) and is_secret_field(k) else redact_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


def secret_variants(secret: str) -> set[str]:
    """The forms a secret can take in text that quotes it."""
    compact = re.sub(r"\s+", "", secret)
    variants = {secret, compact}
    for value in (secret, compact):
        variants |= {
            quote(value, safe=""),
            quote_plus(value, safe=""),
            json.dumps(value)[1:-1],
            value.encode("unicode_escape").decode("ascii"),
            repr(value)[1:-1],
            base64.b64encode(value.encode()).decode("ascii").rstrip("="),
        }
    variants |= {piece for piece in re.split(r"\s+", secret) if piece}
    return variants


def _mask_cookie_pair(pair: str) -> str:
    name, sep, value = pair.partition("=")
    return f"{name}={mask(value)}" if sep else mask(pair)


class Redactor:
    """Scrubs known secrets, and anything shaped like a JWT or a PAT, out of text.

    Thread-safe: a session adds secrets as it learns them (token refreshes) while other threads
    scrub.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"

    def add(self, secret: str | None) -> None:
        """Remember `secret` and every form it takes in text: URL-encoded (form bodies), JSON- and
        repr-escaped (error messages quoting a header), base64, and the lines of a wrapped paste."""
        if not secret or len(str(secret)) < SCRUB_MIN_LENGTH:
            return
        variants = {v for v in secret_variants(str(secret)) if len(v) >= SCRUB_MIN_LENGTH}
        with self._lock:
            if variants <= self._secrets:
                return
            self._secrets |= variants
            # Longest first, so a secret that contains another is replaced whole.
            alternatives = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in alternatives))

    def absorb(self, other: Redactor) -> None:
        """Know every secret `other` knows too (a page showing exchanges another session sent)."""
        with other._lock:
            theirs = set(other._secrets)
        with self._lock:
            if theirs <= self._secrets:
                return
            self._secrets |= theirs
            alternatives = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in alternatives))

    def scrub(self, text: str) -> str:
        """`text` with every known secret, JWT and PAT replaced by its masked form."""
        if not text:
            return text
        text = str(text)
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(lambda m: mask(m.group(0)), text)
        text = JWT_PATTERN.sub(lambda m: mask(m.group(0)), text)
        text = _BASIC_CREDENTIAL.sub(lambda m: m.group(1) + mask(m.group(2)), text)
        return PAT_PATTERN.sub(lambda m: mask(m.group(0)), text)

    def scrub_headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """`redact_headers`, then `scrub` on every value (secrets can hide in any header)."""
        return [(k, self.scrub(v)) for k, v in redact_headers(headers)]

    def scrub_url(self, url: str) -> str:
        """`redact_url` then `scrub`."""
        return self.scrub(redact_url(url))

    def scrub_json(self, value: Any) -> Any:
        """`redact_json`, then `scrub` on every string (keys included)."""
        return self._scrub_strings(redact_json(value))

    def scrub_values(self, value: Any) -> Any:
        """`scrub` on every string of a JSON value (no masking by key: for the explorer's own data)."""
        return self._scrub_strings(value)

    def _scrub_strings(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {self.scrub(str(k)): self._scrub_strings(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub_strings(v) for v in value]
        return value

    def scrub_body(self, text: str | None, content_type: str = "") -> str | None:
        """A request or response body with credentials masked: JSON keys, form fields, patterns.

        JSON is re-serialised only when a credential key was found, so bodies keep their layout.
        """
        if not text:
            return text
        lowered = content_type.lower()
        if "x-www-form-urlencoded" in lowered:
            return self.scrub(redact_form(text))
        if "json" in lowered or text.lstrip()[:1] in ("{", "["):
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError):
                parsed = None
            if parsed is not None and redact_json(parsed) != parsed:
                return self.scrub(json.dumps(redact_json(parsed), indent=2, ensure_ascii=False))
        return self.scrub(text)


def scrub(text: str) -> str:
    """Scrub JWTs and PATs from `text` when no session secrets are at hand."""
    return _PATTERNS_ONLY.scrub(text)


_PATTERNS_ONLY = Redactor()


class RedactingFilter(logging.Filter):
    """Scrubs a log record's message, arguments, exception and stack text in place."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the record (or its secrets)
            message = f"{record.msg!s} {record.args!r}"
        record.msg = self.redactor.scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.redactor.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.scrub(record.stack_info)
        return True


# Every installed filter, held weakly so a finished session's secrets are not kept alive.
_installed_filters: weakref.WeakSet[RedactingFilter] = weakref.WeakSet()
_factory_lock = threading.Lock()
_factory_installed = False


def install_log_filter(redactor: Redactor) -> RedactingFilter:
    """Scrub `redactor`'s secrets from every log record created from now on, on every logger.

    Works through the log-record factory rather than handler filters, so records of child
    loggers and handlers added later are covered too. Keep a reference to the returned filter
    as long as the redactor should apply (it is held weakly here).
    """
    global _factory_installed
    log_filter = RedactingFilter(redactor)
    with _factory_lock:
        _installed_filters.add(log_filter)
        if not _factory_installed:
            _wrap_record_factory()
            _factory_installed = True
    return log_filter


def uninstall_log_filter(log_filter: RedactingFilter) -> None:
    """Stop applying `log_filter` (the pattern-based JWT/PAT scrub stays on)."""
    _installed_filters.discard(log_filter)


def _wrap_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    patterns_only = RedactingFilter(_PATTERNS_ONLY)

    def scrubbing_factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        patterns_only.filter(record)
        for log_filter in list(_installed_filters):
            log_filter.filter(record)
        return record

    logging.setLogRecordFactory(scrubbing_factory)
