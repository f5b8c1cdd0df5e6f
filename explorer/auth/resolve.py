"""One resolution: run a method's resolver, bounded, and turn every failure into findings."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from explorer.auth.base import AuthFailed, BrowserPrompt, Credentials, Inputs
from explorer.failures import auth_failed, finding_for_error, is_network_error, proxy_findings, sdk_message
from explorer.model import Finding
from explorer.parse import InputError
from explorer.redact import Redactor
from explorer.tokens import decode_token
from explorer.waits import run_bounded

if TYPE_CHECKING:
    from explorer.auth.base import AuthMethod

log = logging.getLogger("explorer.auth")


def resolve_with(
    method: AuthMethod, inputs: Inputs, timeout: float, prompt: BrowserPrompt | None
) -> Credentials:
    redactor = Redactor(inputs.secret_values())
    events = inputs.token_log.since
    try:
        credentials = method.resolver(inputs, timeout, prompt)
        token = run_bounded(lambda: credentials.token, timeout, "getting a token")
    except AuthFailed as failed:
        raise AuthFailed(failed.findings, failed.auth_events or events(0)) from None
    except InputError as error:
        fix = "Correct the value; a workspace URL looks like https://<workspace>.cloud.databricks.com."
        raise AuthFailed([auth_failed(redactor.scrub(str(error)), fix)], events(0)) from None
    except Exception as error:
        if _is_sign_in_error(error):
            raise AuthFailed(
                [auth_failed(redactor.scrub(str(error)), method.failure_fix)], events(0)
            ) from None
        log.debug("%s: resolving failed: %s", method.name, redactor.scrub(repr(error)))
        findings = failure_findings(method, error, inputs.get("host"), timeout, redactor)
        raise AuthFailed(findings, events(0)) from None
    if credentials.info.identity is None and token:
        credentials.info.identity = decode_token(token).subject
    return credentials


def _is_sign_in_error(error: BaseException) -> bool:
    """A browser sign-in's own failure (explorer.oauth, which imports the SDK: only loaded when a
    method that signs in ran, so a token-method call never imports it just to name this class)."""
    oauth = sys.modules.get("explorer.oauth")
    return oauth is not None and isinstance(error, oauth.SignInError)


def failure_findings(
    method: AuthMethod,
    error: BaseException,
    host: str | None,
    timeout: float,
    redactor: Redactor | None = None,
) -> list[Finding]:
    """Findings for an unexpected error while resolving: NETWORK_* / TIMEOUT, else AUTH_FAILED."""
    target = host or "the workspace"
    if is_network_error(error):
        return [finding_for_error(error, target, timeout), *proxy_findings(target)]
    message = (redactor or Redactor()).scrub(sdk_message(error))
    return [auth_failed(f"{method.label}: could not get a token: {message}", method.failure_fix)]
