"""Print an OAuth access token for a sandbox user (the sandbox approves sign-ins by login_hint).

    python examples/access-audit/sandbox_user_token.py "$DATABRICKS_HOST" alice@example.com

The databricks-sdk's own authorization-code + PKCE flow (OAuthClient, Consent), with the browser
step done by the sandbox's auto-approve: for the sandbox only. Against a real workspace, get a
user's token with `databricks auth token --profile <p>`.
"""

from __future__ import annotations

import sys
from urllib.parse import parse_qsl, urlsplit

import requests
from databricks.sdk.oauth import OAuthClient


def main(host: str, user: str) -> str:
    client = OAuthClient.from_host(
        host, client_id="databricks-cli", redirect_url="http://localhost:8020", scopes=["all-apis"]
    )
    consent = client.initiate_consent()
    answer = requests.get(
        consent.authorization_url, params={"login_hint": user}, allow_redirects=False, timeout=10
    )
    if answer.status_code != 302:
        raise SystemExit(f"the sandbox did not approve the sign-in ({answer.status_code})")
    query = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
    return consent.exchange_callback_parameters(query).token().access_token


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print(main(sys.argv[1], sys.argv[2]))
