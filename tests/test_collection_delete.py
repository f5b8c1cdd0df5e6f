"""Deleting a request or a folder of a collection (explorer.collection.files.delete_item): only the
collection's own items, never a path outside it, never through a link that leads out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from explorer.collection.files import CollectionError, delete_item, load_collection
from explorer.collection.storage import FolderStorage, StorageError

DEMO = Path(__file__).resolve().parents[1] / "examples" / "sandbox-demo"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(DEMO, copy)
    return copy


def paths(root: Path) -> set[str]:
    return {r.path for _trail, r in load_collection(FolderStorage(root)).requests()}


def test_a_request_is_deleted_and_the_collection_still_loads(demo: Path) -> None:
    before = paths(demo)
    assert "items/02-read.posting.yaml" in before
    delete_item(FolderStorage(demo), "items/02-read.posting.yaml")
    assert not (demo / "items" / "02-read.posting.yaml").exists()
    after = load_collection(FolderStorage(demo))
    assert {r.path for _t, r in after.requests()} == before - {"items/02-read.posting.yaml"}
    assert not after.errors  # its folder's `order` no longer lists it


def test_a_folder_is_deleted_with_its_requests_and_leaves_the_order(demo: Path) -> None:
    assert "failures" in (demo / "collection.yaml").read_text()
    changed = delete_item(FolderStorage(demo), "failures")
    assert not (demo / "failures").exists()
    assert changed == ["collection.yaml"] and "failures" not in (demo / "collection.yaml").read_text()
    after = load_collection(FolderStorage(demo))
    assert not after.errors and not any(p.startswith("failures/") for p in paths(demo))


@pytest.mark.parametrize(
    "path",
    ["../outside.posting.yaml", "/etc/passwd", "items/../../outside.posting.yaml", "collection.yaml",
     "environments/sandbox.yaml", "environments", ".gitignore", "", "items/nope.posting.yaml"],
)  # fmt: skip
def test_only_the_collections_own_items_can_be_deleted(demo: Path, path: str) -> None:
    outside = demo.parent / "outside.posting.yaml"
    outside.write_text("name: outside\nmethod: GET\nurl: /api/hello\n", encoding="utf-8")
    before = sorted(p.relative_to(demo.parent) for p in demo.parent.rglob("*"))
    with pytest.raises(CollectionError) as error:
        delete_item(FolderStorage(demo), path)
    assert "\n" not in str(error.value) and "Traceback" not in str(error.value)
    assert sorted(p.relative_to(demo.parent) for p in demo.parent.rglob("*")) == before


def test_a_linked_folder_leading_out_of_the_collection_is_never_followed(demo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victim = elsewhere / "victim.posting.yaml"
    victim.write_text("name: victim\nmethod: GET\nurl: /api/hello\n", encoding="utf-8")
    (demo / "linked").symlink_to(elsewhere, target_is_directory=True)
    assert "linked/victim.posting.yaml" in paths(demo)  # the loader lists it …
    with pytest.raises(StorageError, match="outside the collection"):
        delete_item(FolderStorage(demo), "linked/victim.posting.yaml")  # … but nothing out there is deleted
    assert victim.exists()
    delete_item(FolderStorage(demo), "linked")  # the link itself goes, never what it points at
    assert not (demo / "linked").exists() and victim.exists()


def test_a_linked_request_file_loses_the_link_not_its_target(demo: Path, tmp_path: Path) -> None:
    target = tmp_path / "shared.posting.yaml"
    target.write_text("name: shared\nmethod: GET\nurl: /api/hello\n", encoding="utf-8")
    (demo / "09-shared.posting.yaml").symlink_to(target)
    delete_item(FolderStorage(demo), "09-shared.posting.yaml")
    assert not (demo / "09-shared.posting.yaml").is_symlink() and target.exists()


def test_the_storage_refuses_its_own_root_and_escapes(demo: Path) -> None:
    storage = FolderStorage(demo)
    for path in ("", ".", "../demo", "/tmp"):
        with pytest.raises(StorageError):
            storage.delete(path)
    assert (demo / "collection.yaml").exists()
