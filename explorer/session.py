"""One user's explorer session: the engine facade the UI and the CLI share.

CONTRACT (the UI and CLI are written against it; the engine fills it in):

    s = ExplorerSession(allowlist=None)            # allowlist: guard.Allowlist | None (None = off)
    s.connect(method, fields) -> Connection         # method in auth.METHODS; fields: {field_name: value}
    s.connection                                     # the current Connection or None
    s.list_apps() -> tuple[list[AppSummary], list[Finding]]
    s.list_endpoints(app_url) -> EndpointListing
    s.send(spec: RequestSpec) -> Exchange            # adds to s.history; never raises for network/HTTP errors
    s.snippet(spec, lang) -> str                     # lang in ("curl", "python", "sdk")
    s.history -> history.History                     # .rows() DataFrame, .export(fmt) -> (filename, text)
    s.reveal_token() -> str | None                   # the current token, for the explicit "reveal" control only

Connection: dataclass with `auth: AuthInfo`, `token: TokenInfo | None`, `findings: list[Finding]`,
`ok: bool`.

Browser sign-in (PKCE, never blocks without a bound):
    url = s.begin_browser(fields)                   # starts the local callback listener; returns the authorize URL
    s.wait_browser(timeout=...) -> Connection        # waits for the listener's callback (bounded)
    s.complete_browser(redirected_url) -> Connection # paste-back mode: the URL the browser was sent to
"""
