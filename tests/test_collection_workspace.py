"""Collections in the sandbox's workspace files, through the real SDK's workspace API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from databricks.sdk import WorkspaceClient
from support.cli import run
from support.sandbox_helpers import m2m_token

from explorer.collection.files import load_collection, load_environment, save_collection
from explorer.collection.storage import FolderStorage, StorageError
from explorer.collection.workspace_storage import WorkspaceStorage
from explorer.discovery import api_only, parse_openapi
from explorer.session import ExplorerSession

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "sandbox-demo"


@pytest.fixture
def workspace(start_sandbox, clean_databricks_env, monkeypatch):
    """A fresh sandbox (its own workspace tree), demo-sp's credentials and the app URLs in the env."""
    sandbox = start_sandbox()
    info = sandbox.info
    sp = info["service_principals"]["demo-sp"]
    monkeypatch.setenv("DATABRICKS_HOST", info["host"])
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", sp["client_secret"])
    for app in ("hello", "scoped", "stopped"):
        monkeypatch.setenv(f"{app.upper()}_URL", info["apps"][app]["url"])
    session = ExplorerSession()
    assert session.connect("m2m", {}).ok
    yield info, session, f"/Workspace/Users/{sp['client_id']}/collections"
    session.close()


def operations(info: dict) -> int:
    """How many /api/ operations the sample app's OpenAPI document declares."""
    token = m2m_token(info)
    doc = requests.get(
        info["apps"]["hello"]["url"] + "/api/openapi.json",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    return len(api_only(parse_openapi(doc)))


def every_file(client: WorkspaceClient, root: str) -> dict[str, str]:
    files = {}
    for info in client.workspace.list(root, recursive=True):
        if str(getattr(info.object_type, "value", info.object_type)) == "FILE":
            with client.workspace.download(info.path) as handle:
                files[info.path] = handle.read().decode()
    return files


def test_a_collection_saved_to_workspace_files_runs_from_there(workspace):
    info, session, home = workspace
    storage = WorkspaceStorage.from_session(session, f"{home}/demo")
    demo = load_collection(FolderStorage(DEMO))
    result = save_collection(
        storage, demo, session.redactor, [load_environment(FolderStorage(DEMO), "sandbox")]
    )
    assert "collection.yaml" in result.written and "environments/sandbox.yaml" in result.written

    loaded = load_collection(storage)
    assert not loaded.errors
    assert [r.comparable() for _, r in loaded.requests()] == [r.comparable() for _, r in demo.requests()]
    assert storage.is_dir("items") and not storage.exists("nope.yaml")

    code, out, err = run(["run", f"workspace:{home}/demo", "--env", "sandbox", "--auth", "m2m"])
    assert code == 0, out + err
    assert out.splitlines()[-1].startswith("PASSED: 15/15 requests passed")

    files = every_file(WorkspaceClient(config=session.credentials.config), f"{home}/demo")
    assert len(files) == len(result.written)
    secrets = [info["service_principals"]["demo-sp"]["client_secret"], session.reveal_token()]
    for path, text in files.items():
        assert not any(secret in text for secret in secrets), path


def test_import_into_the_workspace_and_export_from_it(workspace, tmp_path):
    info, _session, home = workspace
    hello = info["apps"]["hello"]["url"]
    code, out, err = run(["import", "openapi", hello, "--to", f"workspace:{home}/hello", "--auth", "m2m"])
    assert code == 0, err
    assert out.startswith(f"imported {operations(info)} request(s) into workspace:{home}/hello")
    code, out, err = run(["run", f"workspace:{home}/hello", "--auth", "m2m", "--folder", "greetings"])
    assert code == 0 and "1/1 requests passed" in out, out + err
    code, out, err = run(
        ["export", "postman", f"workspace:{home}/hello", "--to", str(tmp_path / "p.json"), "--auth", "m2m"]
    )
    assert code == 0, err
    exported = json.loads((tmp_path / "p.json").read_text())
    assert sum(len(folder["item"]) for folder in exported["item"]) == operations(info)


def test_workspace_errors_are_one_clear_line(workspace):
    _info, session, home = workspace
    code, _, err = run(["run", f"workspace:{home}/absent", "--auth", "m2m"])
    assert code == 2 and err.strip() == f"error: workspace:{home}/absent: no such folder"
    code, _, err = run(["run", f"workspace:{home}/demo", "--auth", "none"])
    assert code == 2 and "needs a connection to the workspace" in err and "Traceback" not in err
    storage = WorkspaceStorage.from_session(session, "/Users/bob@example.com/collections")
    with pytest.raises(StorageError, match=r"cannot write it: .*does not have permission"):
        storage.write_text("collection.yaml", "name: x\n")
    with pytest.raises(StorageError, match="workspace paths are absolute"):
        WorkspaceStorage.from_session(session, "relative/path")


def test_a_request_and_a_folder_are_deleted_from_workspace_files_and_nothing_else(workspace):
    from explorer.collection.files import CollectionError, delete_item

    _info, session, home = workspace
    storage = WorkspaceStorage.from_session(session, f"{home}/demo")
    save_collection(storage, load_collection(FolderStorage(DEMO)), session.redactor)
    neighbour = WorkspaceStorage.from_session(session, f"{home}/neighbour")
    neighbour.write_text("keep.posting.yaml", "name: keep\nmethod: GET\nurl: /api/hello\n")
    requests_before = {r.path for _t, r in load_collection(storage).requests()}
    request = next(p for p in requests_before if p.startswith("items/"))

    delete_item(storage, request)
    assert not storage.exists(request)
    delete_item(storage, "failures")
    assert not storage.exists("failures")
    after = load_collection(storage)
    assert not after.errors  # the order lists left them too
    assert {r.path for _t, r in after.requests()} == {
        p for p in requests_before if p != request and not p.startswith("failures/")
    }
    for outside in ("../neighbour/keep.posting.yaml", "/Workspace", "collection.yaml", ""):
        with pytest.raises(CollectionError):
            delete_item(storage, outside)
    assert neighbour.exists("keep.posting.yaml") and storage.exists("collection.yaml")
    # Another user's files: the workspace's own permission check answers, in one line.
    theirs = WorkspaceStorage.from_session(session, "/Users/bob@example.com")
    with pytest.raises(StorageError, match=r"cannot (delete|read) it"):
        theirs.delete("anything.posting.yaml")
