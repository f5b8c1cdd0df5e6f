"""The Workspace API (`WorkspaceClient().workspace.*`) over real HTTP: files, notebooks, folders,
Databricks' error shapes, and who may write where (own home folder, /Shared, nobody else's)."""

from __future__ import annotations

import base64
import io
import uuid
import zipfile

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import DatabricksError, NotFound, PermissionDenied, ResourceAlreadyExists
from databricks.sdk.service.workspace import ExportFormat, ImportFormat, Language, ObjectType
from support.sandbox_helpers import m2m_token

ALICE, BOB = "alice@example.com", "bob@example.com"


def user_client(info: dict, user: str) -> WorkspaceClient:
    return WorkspaceClient(host=info["host"], token=info["users"][user]["pat"])


def sp_client(info: dict) -> WorkspaceClient:
    creds = info["service_principals"]["demo-sp"]
    return WorkspaceClient(
        host=info["host"], client_id=creds["client_id"], client_secret=creds["client_secret"]
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def alice(sandbox_info, clean_databricks_env) -> WorkspaceClient:
    return user_client(sandbox_info, ALICE)


@pytest.fixture
def bob(sandbox_info, clean_databricks_env) -> WorkspaceClient:
    return user_client(sandbox_info, BOB)


def test_a_file_goes_up_comes_back_and_is_gone_after_delete(alice: WorkspaceClient):
    folder = f"/Users/{ALICE}/{unique('files')}"
    alice.workspace.mkdirs(f"{folder}/sub/deep")
    alice.workspace.upload(f"{folder}/notes.txt", io.BytesIO(b"hello\nworld"), format=ImportFormat.AUTO)

    status = alice.workspace.get_status(f"{folder}/notes.txt")
    with alice.workspace.download(f"{folder}/notes.txt") as downloaded:
        content = downloaded.read()
    exported = alice.workspace.export(f"{folder}/notes.txt", format=ExportFormat.AUTO)
    listed = {o.path: o.object_type for o in alice.workspace.list(folder)}
    everything = [o.path for o in alice.workspace.list(folder, recursive=True)]

    assert status.object_type == ObjectType.FILE and status.size == 11 and status.object_id
    assert content == b"hello\nworld"
    assert base64.b64decode(exported.content) == b"hello\nworld" and exported.file_type == "txt"
    assert listed == {f"{folder}/notes.txt": ObjectType.FILE, f"{folder}/sub": ObjectType.DIRECTORY}
    assert everything == [f"{folder}/notes.txt"]  # the SDK recurses into sub/ and sub/deep (empty)

    alice.workspace.delete(folder, recursive=True)
    with pytest.raises(NotFound, match="doesn't exist"):
        alice.workspace.get_status(f"{folder}/notes.txt")


def test_overwrite_is_refused_unless_asked_for(alice: WorkspaceClient):
    path = f"/Users/{ALICE}/{unique('over')}.json"
    alice.workspace.upload(path, io.BytesIO(b"{}"), format=ImportFormat.AUTO)
    first_id = alice.workspace.get_status(path).object_id

    with pytest.raises(ResourceAlreadyExists):
        alice.workspace.upload(path, io.BytesIO(b"[]"), format=ImportFormat.AUTO)
    alice.workspace.upload(path, io.BytesIO(b"[1]"), format=ImportFormat.AUTO, overwrite=True)

    with alice.workspace.download(path) as downloaded:
        assert downloaded.read() == b"[1]"
    assert alice.workspace.get_status(path).object_id == first_id


def test_notebooks_in_source_and_auto_format(alice: WorkspaceClient):
    folder = f"/Users/{ALICE}/{unique('nb')}"
    alice.workspace.mkdirs(folder)
    # SOURCE (the SDK's default) with the language taken from `.py`: a notebook, path kept.
    alice.workspace.upload(f"{folder}/a.py", io.BytesIO(b"print(1)"))
    # AUTO with the notebook header: a notebook, extension dropped.
    alice.workspace.upload(
        f"{folder}/b.sql", io.BytesIO(b"-- Databricks notebook source\nSELECT 1"), format=ImportFormat.AUTO
    )
    # import_ with base64 content and an explicit language.
    alice.workspace.import_(
        f"{folder}/c",
        content=base64.b64encode(b"x <- 1").decode(),
        format=ImportFormat.SOURCE,
        language=Language.R,
    )

    a, b, c = (alice.workspace.get_status(f"{folder}/{n}") for n in ("a.py", "b", "c"))
    with alice.workspace.download(f"{folder}/a.py") as downloaded:
        a_source = downloaded.read()
    b_export = alice.workspace.export(f"{folder}/b")

    assert (a.object_type, a.language) == (ObjectType.NOTEBOOK, Language.PYTHON)
    assert (b.object_type, b.language) == (ObjectType.NOTEBOOK, Language.SQL)
    assert (c.object_type, c.language) == (ObjectType.NOTEBOOK, Language.R)
    assert a_source == b"# Databricks notebook source\nprint(1)"
    assert base64.b64decode(b_export.content) == b"-- Databricks notebook source\nSELECT 1"
    assert b_export.file_type == "sql"


def test_a_source_import_without_a_language_says_to_use_auto(alice: WorkspaceClient):
    with pytest.raises(DatabricksError, match=r"format=ImportFormat\.AUTO") as caught:
        alice.workspace.upload(f"/Users/{ALICE}/{unique('plain')}.txt", io.BytesIO(b"x"))

    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_directory_exports_as_a_zip(alice: WorkspaceClient):
    folder = f"/Users/{ALICE}/{unique('zip')}"
    alice.workspace.mkdirs(f"{folder}/inner")
    alice.workspace.upload(f"{folder}/inner/data.csv", io.BytesIO(b"a,b\n1,2\n"), format=ImportFormat.AUTO)
    alice.workspace.upload(f"{folder}/job.py", io.BytesIO(b"print(2)"))

    with alice.workspace.download(folder, format=ExportFormat.AUTO) as downloaded:
        archive = zipfile.ZipFile(io.BytesIO(downloaded.read()))

    assert sorted(archive.namelist()) == ["inner/data.csv", "job.py.py"]
    assert archive.read("inner/data.csv") == b"a,b\n1,2\n"


def test_nobody_writes_or_reads_in_another_users_home(alice: WorkspaceClient, bob: WorkspaceClient):
    secret_path = f"/Users/{ALICE}/{unique('private')}.txt"
    alice.workspace.upload(secret_path, io.BytesIO(b"mine"), format=ImportFormat.AUTO)

    with pytest.raises(PermissionDenied, match="permission to write"):
        alice.workspace.upload(f"/Users/{BOB}/{unique('x')}.txt", io.BytesIO(b"x"), format=ImportFormat.AUTO)
    with pytest.raises(PermissionDenied):
        alice.workspace.mkdirs(f"/Users/{BOB}/{unique('dir')}")
    with pytest.raises(PermissionDenied, match="permission to read"):
        bob.workspace.get_status(secret_path)
    with pytest.raises(PermissionDenied):
        bob.workspace.delete(secret_path)
    with pytest.raises(PermissionDenied):
        list(bob.workspace.list(f"/Users/{ALICE}"))  # a generator: it calls when iterated
    with pytest.raises(PermissionDenied):
        bob.workspace.download(f"/Users/{ALICE}", format=ExportFormat.AUTO)  # not as a zip either
    with pytest.raises(PermissionDenied):
        alice.workspace.mkdirs(f"/{unique('top')}")  # only admins write at the root
    with pytest.raises(PermissionDenied):
        alice.workspace.delete(f"/Users/{ALICE}", recursive=True)  # a home folder stays

    homes = {o.path for o in bob.workspace.list("/Users")}
    assert {f"/Users/{ALICE}", f"/Users/{BOB}"} <= homes
    assert {o.path for o in bob.workspace.list("/")} == {"/Shared", "/Users"}


def test_everyone_writes_under_shared(alice: WorkspaceClient, bob: WorkspaceClient):
    folder = f"/Shared/{unique('team')}"
    alice.workspace.mkdirs(folder)
    bob.workspace.upload(f"{folder}/from-bob.txt", io.BytesIO(b"hi alice"), format=ImportFormat.AUTO)

    with alice.workspace.download(f"{folder}/from-bob.txt") as downloaded:
        assert downloaded.read() == b"hi alice"
    alice.workspace.delete(folder, recursive=True)
    with pytest.raises(NotFound):
        bob.workspace.get_status(folder)


def test_a_service_principal_owns_users_application_id(sandbox_info, clean_databricks_env):
    wc = sp_client(sandbox_info)
    app_id = sandbox_info["service_principals"]["demo-sp"]["client_id"]
    path = f"/Users/{app_id}/{unique('sp')}.txt"

    wc.workspace.upload(path, io.BytesIO(b"from the sp"), format=ImportFormat.AUTO)

    assert wc.workspace.get_status(path).size == len(b"from the sp")
    with pytest.raises(PermissionDenied):
        wc.workspace.upload(f"/Users/{ALICE}/{unique('sp')}.txt", io.BytesIO(b"x"), format=ImportFormat.AUTO)


def test_error_shapes_over_plain_http(sandbox_info):
    host, pat = sandbox_info["host"], sandbox_info["users"][ALICE]["pat"]
    headers = {"Authorization": f"Bearer {pat}"}
    api = f"{host}/api/2.0/workspace"
    folder = f"/Users/{ALICE}/{unique('http')}"
    requests.post(
        f"{api}/mkdirs", json={"path": f"{folder}/child"}, headers=headers, timeout=10
    ).raise_for_status()

    missing = requests.get(
        f"{api}/get-status", params={"path": f"{folder}/nope"}, headers=headers, timeout=10
    )
    not_empty = requests.post(f"{api}/delete", json={"path": folder}, headers=headers, timeout=10)
    relative = requests.get(f"{api}/list", params={"path": "Users"}, headers=headers, timeout=10)
    no_parent = requests.post(
        f"{api}/import",
        json={"path": f"{folder}/a/b.txt", "content": "eA==", "format": "AUTO"},
        headers=headers,
        timeout=10,
    )
    bad_base64 = requests.post(
        f"{api}/import",
        json={"path": f"{folder}/c.txt", "content": "%%%", "format": "AUTO"},
        headers=headers,
        timeout=10,
    )
    not_json = requests.post(f"{api}/mkdirs", data="{", headers=headers, timeout=10)
    empty = requests.get(f"{api}/list", params={"path": f"{folder}/child"}, headers=headers, timeout=10)
    unauthenticated = requests.get(f"{api}/list", params={"path": "/"}, timeout=10)
    no_scope = requests.get(
        f"{api}/list",
        params={"path": "/"},
        headers={"Authorization": f"Bearer {m2m_token(sandbox_info, scope='sql')}"},
        timeout=10,
    )

    assert missing.status_code == 404
    assert missing.json() == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": f"Path ({folder}/nope) doesn't exist.",
    }
    assert (not_empty.status_code, not_empty.json()["error_code"]) == (400, "DIRECTORY_NOT_EMPTY")
    assert (relative.status_code, relative.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert (no_parent.status_code, no_parent.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert (bad_base64.status_code, bad_base64.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert (not_json.status_code, not_json.json()["error_code"]) == (400, "MALFORMED_REQUEST")
    assert (empty.status_code, empty.json()) == (200, {})
    assert (unauthenticated.status_code, unauthenticated.json()["error_code"]) == (401, "UNAUTHENTICATED")
    assert (no_scope.status_code, no_scope.json()["error_code"]) == (403, "PERMISSION_DENIED")


def test_direct_download_is_the_bytes_and_workspace_prefixed_paths_are_the_same_tree(sandbox_info):
    host, pat = sandbox_info["host"], sandbox_info["users"][ALICE]["pat"]
    headers = {"Authorization": f"Bearer {pat}"}
    path = f"/Users/{ALICE}/{unique('direct')}.bin"
    payload = bytes(range(256))
    requests.post(
        f"{host}/api/2.0/workspace/import",
        json={"path": f"/Workspace{path}", "content": base64.b64encode(payload).decode(), "format": "RAW"},
        headers=headers,
        timeout=10,
    ).raise_for_status()

    raw = requests.get(
        f"{host}/api/2.0/workspace/export",
        params={"path": path, "direct_download": "true"},
        headers=headers,
        timeout=10,
    )

    assert raw.status_code == 200 and raw.content == payload
    assert raw.headers["content-type"] == "application/octet-stream"
