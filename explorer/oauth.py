"""Browser sign-in (authorization code + PKCE, custom scopes) and token federation, via the SDK.

The SDK's own `external-browser` auth blocks inside `Config()` on port 8020 with no timeout, so
the flow is driven here with its building blocks instead
(docs/PLATFORM.md#external-browser-sign-in): `OAuthClient` builds the
authorize URL, `Consent` exchanges the code, and `SessionCredentials` refreshes the access token
with the refresh token when it expires. The redirect lands either on a local listener with a
bounded wait, or in the user's hands (paste-back mode, for a remote explorer).
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from databricks.sdk.config import Config
from databricks.sdk.credentials_provider import CredentialsStrategy, oidc_credentials_provider
from databricks.sdk.oauth import Consent, OAuthClient, SessionCredentials
from databricks.sdk.oidc import IdToken, IdTokenSource

logger = logging.getLogger(__name__)

DEFAULT_CLIENT_ID = "databricks-cli"  # the built-in public client; its redirect is localhost:8020
DEFAULT_PORT = 8020
# all-apis lets the same token list apps and call the workspace; offline_access gets a refresh token.
BASE_SCOPES = ("all-apis", "offline_access")


class SignInError(Exception):
    """The browser sign-in could not complete; the message is safe to show."""


def browser_scopes(extra: list[str] | None) -> list[str]:
    """The scopes to request: the base ones plus the user's (e.g. sql files.files), no duplicates."""
    return list(dict.fromkeys([BASE_SCOPES[0], *(extra or []), BASE_SCOPES[1]]))


class ProvidedStrategy(CredentialsStrategy):
    """A `Config(credentials_strategy=…)` adapter for credentials obtained outside `Config()`."""

    def __init__(self, auth_type: str, factory: Callable[[Config], Any]) -> None:
        self._auth_type = auth_type
        self._factory = factory

    def auth_type(self) -> str:
        return self._auth_type

    def __call__(self, cfg: Config) -> Any:
        return self._factory(cfg)


NO_CREDENTIALS = ProvidedStrategy("none", lambda _cfg: lambda: {})


# --- the local callback listener --------------------------------------------------------------


class CallbackListener:
    """Serves the OAuth redirect on 127.0.0.1:port until one callback with `code` or `error` arrives."""

    def __init__(self, port: int = DEFAULT_PORT) -> None:
        self._received = threading.Event()
        self._query: dict[str, str] = {}
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = dict(parse_qsl(urlsplit(self.path).query))
                if "code" not in query and "error" not in query:
                    self.send_error(404)  # favicon and friends
                    return
                listener._deliver(query)
                body = _callback_page(query).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt: str, *args: Any) -> None:
                # Not the request line: its query holds the authorization code.
                logger.debug("sign-in callback listener answered a request")

        try:
            self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as error:
            raise SignInError(
                f"Cannot listen on localhost:{port} for the sign-in callback ({error.strerror}); "
                "pick another port (--browser-port) or use paste-back mode (--paste)"
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="oauth-callback", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def _deliver(self, query: dict[str, str]) -> None:
        if not self._received.is_set():
            self._query = query
            self._received.set()

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The callback's query parameters, or None when none arrived within `timeout` seconds."""
        return dict(self._query) if self._received.wait(timeout) else None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _callback_page(query: dict[str, str]) -> str:
    if "error" in query:
        reason = html.escape(query.get("error_description") or query["error"])
        return f"<h1>Sign-in failed</h1><p>{reason}</p><p>Return to the explorer.</p>"
    return "<h1>Signed in</h1><p>You can close this tab and return to the explorer.</p>"


# --- the sign-in flow -------------------------------------------------------------------------


class BrowserLogin:
    """One PKCE sign-in: `begin()` gives the authorize URL; then `wait()` or `complete(url)`.

    `oidc_config` is a `Config` for the workspace (it knows the authorize and token endpoints).
    With `listen=True` a local listener receives the redirect; otherwise the user pastes the
    URL the browser was redirected to (it fails to load, which is expected).
    """

    def __init__(
        self,
        oidc_config: Config,
        *,
        scopes: list[str],
        client_id: str = DEFAULT_CLIENT_ID,
        port: int = DEFAULT_PORT,
        login_hint: str | None = None,
        listen: bool = True,
        trust: Any = None,
    ) -> None:
        self.host = oidc_config.host
        self.scopes = browser_scopes(scopes)
        self.client_id = client_id
        self.trust = trust  # explorer.trust.Trust the sign-in was started under
        self.token_log: Any = None  # explorer.auth.timeline.TokenLog of this sign-in
        self._oidc = oidc_config.databricks_oidc_endpoints
        if self._oidc is None:
            raise SignInError(f"{self.host} does not offer OAuth (no OIDC endpoints)")
        self._listener = CallbackListener(port) if listen else None
        self.redirect_url = f"http://localhost:{self._listener.port if self._listener else port}"
        self._login_hint = login_hint
        self._consent: Consent | None = None

    @property
    def endpoints(self) -> Any:
        """The (checked) OIDC endpoints this sign-in uses."""
        return self._oidc

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def begin(self) -> str:
        """A fresh authorize URL (state + PKCE challenge) to open in a browser."""
        client = OAuthClient(self._oidc, self.redirect_url, self.client_id, scopes=self.scopes)
        self._consent = client.initiate_consent()
        url = self._consent.authorization_url
        return url + f"&login_hint={quote(self._login_hint)}" if self._login_hint else url

    def wait(self, timeout: float) -> SessionCredentials:
        """Credentials once the local listener got the redirect; SignInError after `timeout` s."""
        if self._listener is None:
            raise SignInError("This sign-in was started in paste-back mode: paste the redirected URL")
        query = self._listener.wait(timeout)
        if query is None:
            raise SignInError(
                f"No sign-in completed within {timeout:g} s: open the URL in a browser and sign in, "
                "or use paste-back mode (--paste)"
            )
        return self._exchange(query)

    def complete(self, redirected_url: str) -> SessionCredentials:
        """Credentials from the URL the browser was redirected to (paste-back mode)."""
        query = dict(parse_qsl(urlsplit((redirected_url or "").strip()).query))
        if "code" not in query and "error" not in query:
            raise SignInError(
                "The pasted URL has no `code` parameter: after signing in, copy the whole address "
                f"from the browser's address bar (it starts with {self.redirect_url})"
            )
        return self._exchange(query)

    def _exchange(self, query: dict[str, str]) -> SessionCredentials:
        if self._consent is None:
            raise SignInError("Sign-in was not started: call begin() first")
        if "error" in query:
            reason = query.get("error_description") or query["error"]
            raise SignInError(f"The workspace refused the sign-in: {reason}")
        try:
            return self._consent.exchange_callback_parameters(query)
        except (ValueError, NotImplementedError) as error:
            message = "the sign-in was started in another window" if "state" in str(error) else str(error)
            raise SignInError(f"Could not exchange the sign-in code for a token: {message}") from None
        finally:
            self.close()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None


def session_strategy(credentials: SessionCredentials) -> ProvidedStrategy:
    """A Config strategy that signs SDK calls with a browser sign-in's (refreshing) credentials."""
    return ProvidedStrategy("oauth-u2m", lambda cfg: credentials(cfg))


# --- token federation -------------------------------------------------------------------------


class _GivenIdToken(IdTokenSource):
    """An external IdP token the user supplied (pasted, from a file or an env var)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def id_token(self) -> IdToken:
        return IdToken(jwt=self._token)

    def __repr__(self) -> str:
        return "_GivenIdToken(<hidden>)"


def federation_strategy(subject_token: str) -> ProvidedStrategy:
    """RFC 8693 token exchange of `subject_token` through the SDK's OIDC federation provider.

    The SDK posts the exchange to the workspace's token endpoint (with `client_id` when the
    Config has one: workload identity federation) and caches and re-exchanges the result.
    """
    return ProvidedStrategy(
        "federated", lambda cfg: oidc_credentials_provider(cfg, _GivenIdToken(subject_token))
    )
