"""Collections in Databricks workspace files, through the SDK's workspace API.

Deployed as a Databricks App, collections live in the workspace, not on the app's disk: read and
written as the signed-in user (`user`) or the app's service principal (`app`), whichever the
session is connected as. Paths look like `/Workspace/Users/ada@example.com/collections/demo`.
Every call is the SDK's (`WorkspaceClient.workspace`: get_status, list, mkdirs, upload,
download, delete); errors become one readable `StorageError` line.
"""

from __future__ import annotations

import io
import posixpath
from typing import TYPE_CHECKING, Any

from explorer.collection.storage import Entry, StorageError, clean_path
from explorer.redact import scrub

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

    from explorer.session import ExplorerSession

_DIRECTORY_TYPES = ("DIRECTORY", "REPO")


class WorkspaceStorage:
    """A collection under `root` in the workspace's files."""

    def __init__(self, client: WorkspaceClient, root: str) -> None:
        if not root.startswith("/"):
            raise StorageError(
                f"workspace:{root}: workspace paths are absolute, e.g. /Workspace/Users/<you>/collections/demo"
            )
        self.client = client
        self.root = posixpath.normpath(root)

    def __repr__(self) -> str:
        return f"WorkspaceStorage({self.root!r})"

    @classmethod
    def from_session(cls, session: ExplorerSession | None, root: str) -> WorkspaceStorage:
        """Storage with the session's credentials (connect first: `--auth …`)."""
        credentials = session.credentials if session is not None else None
        config = credentials.config if credentials is not None else None
        if config is None:
            raise StorageError(
                f"workspace:{root}: reading workspace files needs a connection to the workspace: "
                "pass auth options (e.g. --auth m2m, --auth profile --profile P; deployed: app or user)"
            )
        from databricks.sdk import WorkspaceClient

        return cls(WorkspaceClient(config=config), root)

    def _path(self, path: str) -> str:
        relative = clean_path(path)
        return posixpath.join(self.root, relative) if relative else self.root

    def describe(self, path: str = "") -> str:
        return f"workspace:{self._path(path)}"

    def _fail(self, path: str, action: str, error: Exception) -> StorageError:
        message = str(error).split("\n")[0][:200] or type(error).__name__
        return StorageError(f"{self.describe(path)}: cannot {action} it: {scrub(message)}")

    def _status(self, path: str) -> Any | None:
        from databricks.sdk.errors import NotFound

        try:
            return self.client.workspace.get_status(self._path(path))
        except NotFound:
            return None
        except Exception as error:
            raise self._fail(path, "read", error) from None

    def read_text(self, path: str) -> str:
        from databricks.sdk.service.workspace import ExportFormat

        try:
            with self.client.workspace.download(self._path(path), format=ExportFormat.AUTO) as handle:
                data = handle.read()
        except Exception as error:
            raise self._fail(path, "read", error) from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise StorageError(f"{self.describe(path)}: cannot read it: not UTF-8 text") from None

    def write_text(self, path: str, text: str) -> None:
        from databricks.sdk.service.workspace import ImportFormat

        target = self._path(path)
        try:
            self.client.workspace.mkdirs(posixpath.dirname(target))
            self.client.workspace.upload(
                target, io.BytesIO(text.encode("utf-8")), format=ImportFormat.AUTO, overwrite=True
            )
        except Exception as error:
            raise self._fail(path, "write", error) from None

    def list_dir(self, path: str = "") -> list[Entry]:
        from databricks.sdk.errors import NotFound

        try:
            objects = list(self.client.workspace.list(self._path(path)))
        except NotFound:
            return []
        except Exception as error:
            raise self._fail(path, "list", error) from None
        entries = []
        for info in objects:
            kind = getattr(info.object_type, "value", info.object_type)
            name = posixpath.basename((info.path or "").rstrip("/"))
            if name:
                entries.append(Entry(name, str(kind) in _DIRECTORY_TYPES))
        return sorted(entries, key=lambda e: e.name)

    def exists(self, path: str) -> bool:
        return self._status(path) is not None

    def is_dir(self, path: str = "") -> bool:
        status = self._status(path)
        kind = getattr(status.object_type, "value", status.object_type) if status is not None else None
        return str(kind) in _DIRECTORY_TYPES

    def delete(self, path: str) -> None:
        """The workspace's delete (recursive for a folder); never the collection's root itself."""
        if not clean_path(path):
            raise StorageError(
                f"{self.describe()}: the collection's own folder is not deleted from inside it"
            )
        if self._status(path) is None:
            raise StorageError(f"{self.describe(path)}: cannot delete it: it does not exist")
        try:
            self.client.workspace.delete(self._path(path), recursive=self.is_dir(path))
        except Exception as error:
            raise self._fail(path, "delete", error) from None
