"""Who a page sends as: its own connection, or a named identity (the Matrix view's columns, and a
request tab's "Send as").

    offered(ui, file_names, deployed)                  # [(label, value)]: files, this connection, this app, me
    send_as_choices(ui, deployed)                      # the Send-as dropdown (the Collections' identities)
    connect_identities(ui, names, plan, files, deployed)   # each connected once (the matrix's columns)
    sending_session(ui, tab, deployed, env)            # the ExplorerSession a tab sends with

Identities are `explorer.collection.matrix.Identity`s: identity files (`identities/NAME.yaml` of a
collection; secrets from the environment, never the page), "none" (no token), and deployed "this
app" (the app's service principal) and "me" (the signed-in user's forwarded token). Their secrets
join the page's redactor as they connect (and after each send), so whatever the page shows or
exports is scrubbed of them. A tab's identity is connected once, on its first send, and kept in the
UISession (closed with it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from explorer.collection.files import CollectionError, list_environments
from explorer.collection.matrix import IDENTITIES, Identity, connect_identity, given_identity
from explorer.collection.matrix_apps import ME, THIS_APP, platform_identities
from explorer.collection.model import Collection, Folder
from explorer.collection.runner import RunPlan
from explorer.collection.storage import FolderStorage, Storage, StorageError
from explorer.collection.variables import Scope, UndefinedVariable
from explorer.parse import InputError
from explorer.session import ExplorerSession
from explorer.ui.forms import THIS_CONNECTION, FormError
from explorer.ui.state import RequestTab, UISession

NONE = "none"  # no token at all (the gateway sends the caller to sign in)
PLATFORM = (THIS_APP, ME)


def page_environment(ui: UISession, deployed: bool) -> dict[str, str]:
    """What `{{$env.NAME}}` reads in the UI: locally the process environment; deployed nothing of the
    server's (its secrets are not the user's). On top, from this page: DATABRICKS_HOST (the connection's
    workspace) and `<APP>_URL` for every app listed (the demo collection's {{$env.HELLO_URL}})."""
    import os

    values = {} if deployed else dict(os.environ)
    connection = ui.explorer.connection
    if connection is not None and connection.ok and connection.auth.host:
        values["DATABRICKS_HOST"] = connection.auth.host
    for app in ui.apps:
        if app.url:
            values[f"{app.name.replace('-', '_').upper()}_URL"] = app.url
    return values


def identity_storage(ui: UISession, location: str, deployed: bool) -> Storage | None:
    """The typed folder (local only), a workspace folder, else the collection open in Collections."""
    location = (location or "").strip()
    if location and not deployed and not location.startswith("workspace:"):
        return FolderStorage(Path(location))
    if location:
        from explorer.collection.workspace_storage import WorkspaceStorage

        return WorkspaceStorage.from_session(ui.explorer, location.removeprefix("workspace:"))
    opened = ui.collection
    return opened.storage if opened is not None else None


def identity_files(storage: Storage) -> list[str]:
    """The names of the collection's identity files (`identities/*.yaml`)."""
    return list_environments(storage, IDENTITIES)


def offered(ui: UISession, file_names: list[str], deployed: bool) -> list[tuple[str, str]]:
    """The identities this page may use, as (label, value): the files', its own connection (when
    connected), and deployed "this app" (the platform's credentials) and "me" (a forwarded token)."""
    names = [(n, n) for n in file_names]
    connection = ui.explorer.connection
    if connection is not None and connection.ok:
        names.append(
            (
                f"{THIS_CONNECTION}: {connection.auth.identity or '?'} ({connection.auth.method})",
                THIS_CONNECTION,
            )
        )
    if deployed:
        if ui.explorer.trust.platform.get("DATABRICKS_CLIENT_ID"):
            names.append((f"{THIS_APP} (the app's service principal)", THIS_APP))
        if ui.explorer.forwarded_token:
            names.append((f"{ME} (you, signed in)", ME))
    return names


def send_as_choices(ui: UISession, deployed: bool) -> list[tuple[str, str]]:
    """The Send-as dropdown: this connection first, then the identities of the collection open in
    Collections (a collection that cannot be read offers none), the platform's, and no token."""
    files: list[str] = []
    opened = ui.collection
    if opened is not None:
        try:
            files = identity_files(opened.storage)
        except (CollectionError, StorageError, OSError):
            files = []
    others = [choice for choice in offered(ui, files, deployed) if choice[1] != THIS_CONNECTION]
    return [(THIS_CONNECTION, THIS_CONNECTION), *others, ("none (no token)", NONE)]


def identity_plan(
    ui: UISession, storage: Storage, env: str | None, deployed: bool, identity_env: Mapping[str, str]
) -> RunPlan:
    """The plan identity files are read under: the collection, its environment, the page's `$env`,
    and the values identity files read their secrets from (the demo's, server-side)."""
    try:
        return RunPlan.load(
            storage, env=env or None, environ=page_environment(ui, deployed), dotenv=dict(identity_env)
        )
    except (CollectionError, StorageError) as e:
        raise FormError(f"Cannot run: {e}") from None


def empty_plan() -> RunPlan:
    """A plan without a collection: for identities that need no file (none, this app, me)."""
    return RunPlan(Collection("", root=Folder("")), None, Scope([{}, {}, {}, {}], environ={}), {}, None)


def connect_identities(
    ui: UISession, names: list[str], plan: RunPlan, files: RunPlan, deployed: bool
) -> dict[str, Identity]:
    """Every identity of `names` connected once (the page's own connection as it is): `files` is the
    plan identity files come from. Their secrets join the page's redactor; the caller closes them
    (`close_identities`). Bad input (an unknown identity, a missing variable) is a FormError."""
    found: dict[str, Identity] = {}
    platform = platform_identities(
        ui.explorer.trust,
        ui.explorer.forwarded_token if deployed else None,
        plan,
        ui.explorer.timeout,
        wanted=tuple(n for n in names if n in PLATFORM),
    )
    try:
        for name in names:
            if name == THIS_CONNECTION:
                found[name] = given_identity(THIS_CONNECTION, ui.explorer, plan)
            elif name in platform:
                found[name] = platform.pop(name)
            elif name in PLATFORM:
                raise FormError(
                    f"“{name}” is not available here: deployed, “{THIS_APP}” needs the platform's "
                    f"credentials and “{ME}” the signed-in user's forwarded token."
                )
            else:
                found[name] = connect_identity(files, name, ui.explorer.timeout, trust=ui.explorer.trust)
    except BaseException as e:
        close_identities(found, ui)
        close_identities(platform, ui)
        if isinstance(e, (CollectionError, InputError, StorageError, UndefinedVariable)):
            raise FormError(str(e)) from None
        raise
    for identity in found.values():
        ui.explorer.redactor.absorb(identity.session.redactor)
    return found


def close_identities(identities: Mapping[str, Identity], ui: UISession) -> None:
    """Close identity sessions (never the page's own)."""
    for identity in identities.values():
        if identity.session is not ui.explorer:
            identity.session.close()


def sending_session(
    ui: UISession, tab: RequestTab, deployed: bool, identity_env: Callable[[], Mapping[str, str]]
) -> ExplorerSession:
    """The session `tab` sends with, as its form's `send_as` says: the page's own for this connection;
    else that identity, connected on its first send and kept in `ui.identities` (the same identity
    from the same collection and environment is reused). FormError when it cannot connect."""
    name = (tab.form.send_as or THIS_CONNECTION).strip()
    if name == THIS_CONNECTION:
        return ui.explorer
    with ui.identity_lock:  # two tabs sending as a new identity at once connect it once
        return _identity_session(ui, tab, name, deployed, identity_env)


def _identity_session(
    ui: UISession, tab: RequestTab, name: str, deployed: bool, identity_env: Callable[[], Mapping[str, str]]
) -> ExplorerSession:
    opened = ui.collection
    if tab.identity_from is not None:  # a matrix cell's: its identity from the matrix's collection
        location, env = tab.identity_from
    else:
        location, env = "", (opened.env if opened is not None else None)
    where = location or (opened.location if opened is not None else "")
    key = (name,) if name in (*PLATFORM, NONE) else (name, where, env or "")
    kept = ui.identities.get(name)
    if kept is not None and kept[0] == key:
        identity: Identity = kept[1]
    else:
        if kept is not None:
            close_identities({name: kept[1]}, ui)
            del ui.identities[name]
        if name in (*PLATFORM, NONE):
            plan = empty_plan()
        else:
            storage = identity_storage(ui, location, deployed)
            if storage is None:
                raise FormError(
                    f"Cannot send as “{name}”: open the collection with identities/{name}.yaml in "
                    "Collections (or pick “this connection”)."
                )
            plan = identity_plan(ui, storage, env, deployed, identity_env())
        identity = connect_identities(ui, [name], plan, plan, deployed)[name]
        connection = identity.connection
        if connection is not None and not connection.ok:
            close_identities({name: identity}, ui)
            why = "; ".join(f.message for f in connection.findings[:1]) or "the connection failed"
            raise FormError(f"Cannot send as “{name}”: {identity.session.redactor.scrub(why)}")
        ui.identities[name] = (key, identity)
    if name == ME:
        identity.session.follow_forwarded_token(ui.explorer.forwarded_token)
    return identity.session


def kept_session(ui: UISession, name: str | None) -> ExplorerSession:
    """The session `name` sends with if it is connected already (else the page's: a snippet or a
    label never connects anyone)."""
    kept = ui.identities.get((name or THIS_CONNECTION).strip())
    return kept[1].session if kept is not None else ui.explorer
