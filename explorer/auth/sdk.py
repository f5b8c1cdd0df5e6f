"""The SDK's `Config`, built so that it sees only what it should and never waits unbounded.

Two guards on top of the plain `Config`:

- **sealed** (deployed): the SDK reads its attributes from the process environment and from
  `~/.databrickscfg` whenever they are not given. Deployed, that would merge the server's own
  credentials into a connection a signed-in user configured; a sealed Config loads neither.
- **pinned endpoints**: the SDK discovers the OAuth endpoints from the host's metadata each time
  it builds a provider. The explorer discovers (and checks) them once, before any secret is
  sent (`explorer.auth.endpoints`), and the Config answers with exactly those, so a hostile
  metadata document cannot redirect the secret afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from explorer.auth.base import Credentials, Inputs
from explorer.model import AuthInfo
from explorer.trust import Trust
from explorer.waits import run_bounded

if TYPE_CHECKING:
    from databricks.sdk.config import Config
    from databricks.sdk.oauth import OidcEndpoints


def sdk_bounds(timeout: float) -> dict[str, Any]:
    """Config kwargs that cap the SDK's retry budget and per-request timeout."""
    return {"retry_timeout_seconds": max(1, int(timeout)), "http_timeout_seconds": timeout}


def new_config(
    trust: Trust,
    timeout: float,
    *,
    endpoints: OidcEndpoints | None = None,
    bounded: bool = True,
    **kwargs: Any,
) -> Config:
    """A Config for `kwargs` under `trust`, answering `endpoints` for OAuth when given.

    `bounded` runs the constructor (which fetches the host's metadata) with a deadline.
    """
    cls = _config_class(trust.deployed, endpoints is not None)
    if endpoints is not None:
        kwargs = {**kwargs, "pinned_endpoints": endpoints}

    def build() -> Config:
        return cls(**kwargs, **sdk_bounds(timeout))

    if not bounded:
        return build()
    return run_bounded(build, timeout + 2, "connecting to the workspace")


@functools.lru_cache(maxsize=4)
def _config_class(sealed: bool, pinned: bool) -> type:
    from databricks.sdk.config import Config

    class ExplorerConfig(Config):
        """Config with the explorer's guards (see the module docstring)."""

        @classmethod
        def attributes(cls) -> Any:  # the SDK collects them from the class's own __dict__
            return Config.attributes()

        def __init__(self, *, pinned_endpoints: OidcEndpoints | None = None, **kwargs: Any) -> None:
            self._pinned_endpoints = pinned_endpoints
            super().__init__(**kwargs)

        if sealed:

            def _load_from_env(self) -> None:  # deployed: the server's environment is not the user's
                return None

            def _known_file_config_loader(self) -> None:  # nor are its files
                return None

        if pinned:

            @property
            def databricks_oidc_endpoints(self) -> OidcEndpoints | None:
                return self._pinned_endpoints

    ExplorerConfig.__name__ = ExplorerConfig.__qualname__ = "ExplorerConfig"
    return ExplorerConfig


def config_builder(
    inputs: Inputs, timeout: float, endpoints: OidcEndpoints | None, **kwargs: Any
) -> Callable[[], Config]:
    """A function that builds the Config for `kwargs` under the inputs' trust (each call: a new one)."""
    return lambda: new_config(inputs.trust, timeout, endpoints=endpoints, **kwargs)


def credentials_from_config(
    cfg: Config, info: AuthInfo, inputs: Inputs, timeout: float, rebuild: Callable[[], Config]
) -> Credentials:
    """Credentials that sign with `cfg` (the SDK caches and refreshes the token); forcing a fresh
    token signs with `rebuild()`'s new Config from then on."""
    return Credentials(
        info=info,
        header_factory=cfg.authenticate,
        config_factory=lambda: cfg,
        known_secrets=tuple(inputs.secret_values()),
        timeout=timeout,
        token_log=inputs.token_log,
        refresher=lambda credentials: credentials.use_config(rebuild()),
    )
