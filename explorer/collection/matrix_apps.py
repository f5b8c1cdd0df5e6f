"""The matrix across the workspace's apps, as "this app" and "me": what can my app reach as itself,
and what as the signed-in user?

    plan = apps_plan(apps, "/api/whoami")                # a row per app (its /api/ path)
    identities = platform_identities(trust, forwarded_token, plan)   # "this app", "me" (deployed)
    run_matrix(plan, list(identities), given=identities)

"this app" is the `app` method (the app's own service principal, the platform's credentials);
"me" the `user` method (the token the platform forwards for the signed-in user). Neither needs an
identity file; both follow the trust rule of the session that asks (deployed: its allowlist). The
cells' `seen` column is what the target app says called it (its identity echo), so a hop from
this app to another is visible: as itself the target sees this app's service principal, as "me"
the user, with the user's token.
"""

from __future__ import annotations

from typing import Any

from explorer.collection.matrix import Identity, given_identity
from explorer.collection.model import Collection, Folder, Request
from explorer.collection.runner import RunPlan
from explorer.collection.variables import Scope
from explorer.model import AppSummary
from explorer.parse import InputError
from explorer.session import ExplorerSession

THIS_APP, ME = "this app", "me"
DEFAULT_PATH = "/api/whoami"  # the sample app's identity echo (and the explorer's own)


def apps_plan(apps: list[AppSummary], path: str = DEFAULT_PATH) -> RunPlan:
    """A plan with one GET per app that has a URL: `<app url><path>`, named after the app."""
    path = (path or DEFAULT_PATH).strip()
    if not path.startswith("/"):
        raise InputError(f"The path to call on every app must start with / (got {path!r})")
    requests = [
        Request(name=app.name, method="GET", url=app.url.rstrip("/") + path, path=f"{app.name}.posting.yaml")
        for app in apps
        if app.url and not app.problem
    ]
    if not requests:
        raise InputError("The workspace lists no app with a URL: nothing to call.")
    collection = Collection("workspace apps", root=Folder("", items=list(requests)))
    scope = Scope([{}, {}, {}, {}], environ={})
    return RunPlan(collection, None, scope, {}, None)


def platform_identities(
    trust: Any,
    forwarded_token: str | None,
    plan: RunPlan,
    timeout: float = 10.0,
    wanted: tuple[str, ...] = (THIS_APP, ME),
) -> dict[str, Identity]:
    """The identities of `wanted` among "this app" (when the platform's credentials are there) and
    "me" (when a user token is forwarded), each its own session under `trust`, connected once. The
    caller closes them."""
    found: dict[str, Identity] = {}
    if THIS_APP in wanted and trust is not None and trust.platform.get("DATABRICKS_CLIENT_ID"):
        session = ExplorerSession(trust=trust, timeout=timeout)
        session.connect("app", {})
        found[THIS_APP] = given_identity(THIS_APP, session, plan)
    if ME in wanted and forwarded_token:
        session = ExplorerSession(trust=trust, timeout=timeout)
        session.follow_forwarded_token(forwarded_token)
        session.connect("user", {"token": forwarded_token})
        found[ME] = given_identity(ME, session, plan)
    return found


def close_identities(identities: dict[str, Identity]) -> None:
    for identity in identities.values():
        identity.session.close()
