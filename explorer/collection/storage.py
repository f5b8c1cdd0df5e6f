"""Where collection files live: a local folder, or Databricks workspace files (deployed).

`Storage` is the small interface the loader and the writer use; paths are relative POSIX paths
inside the collection ("items/01-create.posting.yaml"). `FolderStorage` keeps them on disk;
`WorkspaceStorage` in the workspace through the SDK's workspace API (see `workspace_storage.py`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol


class StorageError(OSError):
    """A file could not be read or written; `str()` is one readable line naming the file."""


@dataclass(frozen=True)
class Entry:
    name: str
    is_dir: bool


class Storage(Protocol):
    """The files of one collection."""

    def describe(self, path: str = "") -> str:
        """How to show `path` to the user (a file path, or a workspace path)."""
        ...

    def read_text(self, path: str) -> str: ...

    def write_text(self, path: str, text: str) -> None: ...

    def list_dir(self, path: str = "") -> list[Entry]:
        """The entries of a folder; [] when it does not exist."""
        ...

    def exists(self, path: str) -> bool: ...

    def is_dir(self, path: str = "") -> bool: ...

    def delete(self, path: str) -> None:
        """Remove a file, or a folder with everything in it; never anything outside the collection."""
        ...


def clean_path(path: str) -> str:
    """A relative POSIX path that stays inside the collection; raises StorageError otherwise."""
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        raise StorageError(f"{path!r}: paths in a collection must be relative and stay inside it")
    text = str(pure)
    return "" if text == "." else text


class FolderStorage:
    """A collection in a local folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"FolderStorage({str(self.root)!r})"

    def _path(self, path: str) -> Path:
        relative = clean_path(path)
        return self.root / relative if relative else self.root

    def describe(self, path: str = "") -> str:
        return str(self._path(path))

    def read_text(self, path: str) -> str:
        try:
            return self._path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise StorageError(f"{self.describe(path)}: cannot read it: {reason}") from None

    def write_text(self, path: str, text: str) -> None:
        target = self._path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(target.name + ".tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(target)
        except OSError as error:
            raise StorageError(f"{self.describe(path)}: cannot write it: {error.strerror or error}") from None

    def list_dir(self, path: str = "") -> list[Entry]:
        folder = self._path(path)
        try:
            children = list(folder.iterdir())
        except OSError:
            return []
        return sorted((Entry(c.name, c.is_dir()) for c in children), key=lambda e: e.name)

    def exists(self, path: str) -> bool:
        return self._path(path).exists()

    def is_dir(self, path: str = "") -> bool:
        return self._path(path).is_dir()

    def delete(self, path: str) -> None:
        """Remove `path` (a folder with its contents). Symlinks are never followed out of the
        collection: a link is removed itself, never its target, and a path reached through a
        linked folder that leads outside is refused."""
        relative = clean_path(path)
        if not relative:
            raise StorageError(
                f"{self.describe()}: the collection's own folder is not deleted from inside it"
            )
        target = self.root / relative
        try:
            root = self.root.resolve(strict=True)
            parent = target.parent.resolve(strict=True)
        except OSError as error:
            raise StorageError(
                f"{self.describe(path)}: cannot delete it: {error.strerror or error}"
            ) from None
        if parent != root and root not in parent.parents:
            raise StorageError(
                f"{self.describe(path)}: cannot delete it: it leads outside the collection (a link)"
            )
        try:
            if target.is_symlink() or not target.is_dir():
                target.unlink()
            else:
                shutil.rmtree(target)  # rmtree removes links inside, never what they point at
        except FileNotFoundError:
            raise StorageError(f"{self.describe(path)}: cannot delete it: it does not exist") from None
        except OSError as error:
            raise StorageError(
                f"{self.describe(path)}: cannot delete it: {error.strerror or error}"
            ) from None
