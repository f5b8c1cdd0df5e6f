"""`browser`: authorization code + PKCE with the scopes you choose (explorer.oauth drives the flow).

The authorize and token endpoints are discovered and checked before the sign-in link is shown
(http(s) only, and on the allowlist when one is on).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from explorer.auth.base import AuthFailed, BrowserPrompt, Credentials, Inputs
from explorer.auth.endpoints import discover_endpoints
from explorer.auth.sdk import new_config
from explorer.failures import auth_failed
from explorer.model import AuthInfo
from explorer.parse import InputError
from explorer.tokens import decode_token
from explorer.trust import Trust
from explorer.waits import run_bounded

if TYPE_CHECKING:
    from explorer import oauth


def resolve_browser(inputs: Inputs, timeout: float, prompt: BrowserPrompt | None) -> Credentials:
    if prompt is None:
        raise AuthFailed(
            [
                auth_failed(
                    "Browser sign-in needs someone to open the sign-in page",
                    "Start it from the UI's Sign in button, or the CLI with `--auth browser`.",
                )
            ]
        )
    login = start_browser_login(
        inputs.method_values(), timeout, listen=prompt.read_redirect is None, trust=inputs.trust
    )
    try:
        prompt.show_url(login.begin())
        if prompt.read_redirect is not None:
            session = login.complete(prompt.read_redirect())
        else:
            session = login.wait(prompt.wait_seconds)
    finally:
        login.close()
    return browser_credentials(login, session, timeout, trust=inputs.trust)


def start_browser_login(
    values: Mapping[str, Any], timeout: float, *, listen: bool, trust: Trust | None = None
) -> oauth.BrowserLogin:
    """A PKCE sign-in for the `browser` method's field values; the caller calls `.begin()`.

    Raises AuthFailed (bad input, unreachable workspace, a host off the allowlist) or
    oauth.SignInError (cannot listen).
    """
    from explorer import oauth
    from explorer.auth.registry import METHODS
    from explorer.auth.resolve import failure_findings

    method = METHODS["browser"]
    trust = trust or Trust()
    try:
        inputs = Inputs(method, values, trust)
        host = inputs.host()
        port = int(inputs.get("port") or oauth.DEFAULT_PORT)
    except (InputError, ValueError) as error:
        raise AuthFailed(
            [auth_failed(f"Browser sign-in: {error}", "Check the workspace URL and the port.")]
        ) from None
    assert host is not None
    scopes, client_id, hint = inputs.scopes(), inputs.get("client_id"), inputs.get("login_hint")
    endpoints = discover_endpoints(inputs, host, timeout)

    def make() -> oauth.BrowserLogin:
        cfg = new_config(
            trust,
            timeout,
            endpoints=endpoints,
            bounded=False,
            host=host,
            credentials_strategy=oauth.NO_CREDENTIALS,
            auth_type="none",
        )
        return oauth.BrowserLogin(
            cfg,
            scopes=scopes,
            client_id=client_id or oauth.DEFAULT_CLIENT_ID,
            port=port,
            login_hint=hint,
            listen=listen,
            trust=trust,
        )

    try:
        login = run_bounded(make, timeout + 2, "discovering the workspace's sign-in endpoints")
    except oauth.SignInError:
        raise
    except Exception as error:
        raise AuthFailed(failure_findings(method, error, host, timeout)) from None
    login.token_log = inputs.token_log  # the code exchange and every refresh land in the timeline
    return login


def browser_credentials(
    login: oauth.BrowserLogin, session: Any, timeout: float, trust: Trust | None = None
) -> Credentials:
    """Credentials from a completed sign-in; the SDK refreshes the token with the refresh token."""
    from explorer import oauth
    from explorer.auth.registry import METHODS
    from explorer.auth.resolve import failure_findings

    trust = trust or login.trust
    strategy = oauth.session_strategy(session)
    try:
        cfg = new_config(
            trust,
            timeout,
            endpoints=login.endpoints,
            host=login.host,
            credentials_strategy=strategy,
            auth_type="oauth-u2m",
        )
    except Exception as error:
        raise AuthFailed(failure_findings(METHODS["browser"], error, login.host, timeout)) from None
    scopes = " ".join(login.scopes)
    info = AuthInfo(
        "browser", f"browser sign-in (PKCE) as client {login.client_id}, scopes {scopes}", host=cfg.host
    )
    info.details = {"scopes": scopes, "client_id": login.client_id}
    info.identity = decode_token(session.token().access_token).subject
    return Credentials(
        info=info,
        header_factory=lambda: {"Authorization": f"Bearer {session.token().access_token}"},
        config_factory=lambda: cfg,
        refresh_token_source=lambda: session.token().refresh_token,
        timeout=timeout,
        token_log=getattr(login, "token_log", None),
        refresher=lambda _credentials: _force_refresh(session),
    )


def _force_refresh(session: Any) -> None:
    """Use the refresh token now, not when the SDK would (the gateway refused the current token)."""
    fresh = session.refresh()
    update = getattr(session, "_update_token", None)  # the SDK's Refreshable keeps its token here
    if callable(update):
        update(fresh)
