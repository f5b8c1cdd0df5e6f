"""The workspace file tree, in memory: directories, files and notebooks, and who may touch what.

Every user and service principal owns its home folder `/Users/<username>` (a service principal's
username is its application id); everyone may write under `/Shared`. Inside another principal's
home folder nothing is readable or writable (PERMISSION_DENIED); the folder itself is listed.
Errors are ApiError with Databricks' error codes, so the routes only translate HTTP.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from explorer.sandbox.identity.authority import Principal
from explorer.sandbox.rest.callers import ApiError

ObjectType = Literal["DIRECTORY", "FILE", "NOTEBOOK"]
LANGUAGES = ("PYTHON", "SQL", "SCALA", "R")
MAX_OBJECT_BYTES = 10 * 1024 * 1024  # the import API's limit (MAX_NOTEBOOK_SIZE_EXCEEDED)
_EXTENSIONS = {".py": "PYTHON", ".sql": "SQL", ".scala": "SCALA", ".r": "R"}
_FILE_TYPES = {"PYTHON": "py", "SQL": "sql", "SCALA": "scala", "R": "r"}
_COMMENT = {"PYTHON": "#", "SQL": "--", "SCALA": "//", "R": "#"}


def notebook_header(language: str) -> bytes:
    return f"{_COMMENT[language]} Databricks notebook source".encode()


@dataclass
class WorkspaceObject:
    path: str
    object_type: ObjectType
    object_id: int
    created_at: int  # milliseconds since the epoch, as Databricks reports them
    modified_at: int
    content: bytes = field(default=b"", repr=False)
    language: str | None = None  # notebooks only

    def info(self) -> dict[str, Any]:
        """The `ObjectInfo` of get-status and list."""
        body: dict[str, Any] = {
            "object_type": self.object_type,
            "path": self.path,
            "object_id": self.object_id,
            "resource_id": str(self.object_id),
            "created_at": self.created_at,
            "modified_at": self.modified_at,
        }
        if self.object_type == "FILE":
            body["size"] = len(self.content)
        if self.object_type == "NOTEBOOK":
            body["language"] = self.language
        return body

    def source(self) -> bytes:
        """What a SOURCE export gives: a notebook with its header line, a file as it is."""
        if self.object_type == "NOTEBOOK" and self.language:
            return notebook_header(self.language) + b"\n" + self.content
        return self.content

    def file_type(self) -> str:
        if self.object_type == "NOTEBOOK" and self.language:
            return _FILE_TYPES[self.language]
        name = self.path.rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[-1] if "." in name else ""


def normalize(raw: str | None) -> str:
    """An absolute workspace path without `/Workspace`, doubled or trailing slashes; else ApiError."""
    if not raw:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "Missing required field: path")
    if not raw.startswith("/"):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Path ({raw}) doesn't start with '/'")
    parts = [p for p in raw.split("/") if p]
    if parts[:1] == ["Workspace"]:  # the same tree, as the workspace file system names it
        parts = parts[1:]
    if any(p in (".", "..") for p in parts) or any("\x00" in p for p in parts):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Path ({raw}) is not a valid workspace path")
    return "/" + "/".join(parts)


def _denied(who: Principal, action: str, path: str) -> ApiError:
    return ApiError(403, "PERMISSION_DENIED", f"{who.username} does not have permission to {action} {path}.")


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _now_ms() -> int:
    return int(time.time() * 1000)


class WorkspaceTree:
    def __init__(self, owners: list[str]):
        self._lock = threading.Lock()
        self._objects: dict[str, WorkspaceObject] = {}
        self._next_id = 1_000_000_000_000
        for path in ("/", "/Users", "/Shared", *(f"/Users/{name}" for name in owners)):
            self._add(path, "DIRECTORY")

    # --- permissions -------------------------------------------------------------------------
    @staticmethod
    def _home_owner(path: str) -> str | None:
        """Whose home folder `path` lies inside (not the folder itself), if any."""
        parts = path.split("/")
        return parts[2] if len(parts) >= 4 and parts[1] == "Users" else None

    def _check_read(self, who: Principal, path: str) -> None:
        owner = self._home_owner(path)
        if owner is not None and owner != who.username:
            raise _denied(who, "read", path)

    def _check_read_inside(self, who: Principal, directory: str) -> None:
        """May `who` see what the directory holds (another's home folder is listed, not opened)?"""
        self._check_read(who, directory.rstrip("/") + "/-")

    def _check_write(self, who: Principal, path: str) -> None:
        """May `who` create, change or delete the object at `path` (never a home folder itself)?"""
        parts = path.split("/")
        shared = len(parts) >= 3 and parts[1] == "Shared"
        if not (shared or self._home_owner(path) == who.username):
            raise _denied(who, "write to", path)

    # --- reading -----------------------------------------------------------------------------
    def _get(self, path: str) -> WorkspaceObject:
        found = self._objects.get(path)
        if found is None:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")
        return found

    def status(self, who: Principal, raw_path: str | None) -> WorkspaceObject:
        path = normalize(raw_path)
        self._check_read(who, path)
        with self._lock:
            return self._get(path)

    def list(self, who: Principal, raw_path: str | None) -> list[WorkspaceObject]:
        """A directory's children (sorted), or the object itself when it is not a directory."""
        path = normalize(raw_path)
        self._check_read(who, path)
        with self._lock:
            found = self._get(path)
            if found.object_type != "DIRECTORY":
                return [found]
            self._check_read_inside(who, path)
            return sorted(
                (o for p, o in self._objects.items() if p != "/" and _parent(p) == path),
                key=lambda o: o.path,
            )

    def subtree(self, who: Principal, path: str) -> list[WorkspaceObject]:
        """Every object below the directory `path` (for a directory export)."""
        self._check_read_inside(who, path)
        prefix = path.rstrip("/") + "/"
        with self._lock:
            return sorted((o for p, o in self._objects.items() if p.startswith(prefix)), key=lambda o: o.path)

    # --- writing -----------------------------------------------------------------------------
    def mkdirs(self, who: Principal, raw_path: str | None) -> None:
        """Create the directory and its missing parents; existing directories are fine."""
        path = normalize(raw_path)
        if self._home_owner(path) not in (None, who.username):
            raise _denied(who, "write to", path)
        with self._lock:
            current = ""
            for part in path.strip("/").split("/"):
                current += "/" + part
                existing = self._objects.get(current)
                if existing is None:
                    self._check_write(who, current)
                    self._add(current, "DIRECTORY")
                elif existing.object_type != "DIRECTORY":
                    raise ApiError(
                        400,
                        "RESOURCE_ALREADY_EXISTS",
                        f"Path ({current}) already exists and is not a directory.",
                    )

    def put(
        self,
        who: Principal,
        raw_path: str | None,
        content: bytes,
        *,
        object_type: ObjectType,
        language: str | None,
        overwrite: bool,
    ) -> WorkspaceObject:
        """Create or (with overwrite) replace a file or notebook; its folder must exist."""
        path = normalize(raw_path)
        if len(content) > MAX_OBJECT_BYTES:
            raise ApiError(
                400,
                "MAX_NOTEBOOK_SIZE_EXCEEDED",
                f"The imported content is larger than the maximum size ({MAX_OBJECT_BYTES} bytes)",
            )
        self._check_write(who, path)
        with self._lock:
            parent = self._objects.get(_parent(path))
            if parent is None or parent.object_type != "DIRECTORY":
                raise ApiError(
                    404, "RESOURCE_DOES_NOT_EXIST", f"The parent folder ({_parent(path)}) does not exist."
                )
            existing = self._objects.get(path)
            if existing is not None and (existing.object_type == "DIRECTORY" or not overwrite):
                raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists.")
            created = self._add(path, object_type, content=content, language=language)
            if existing is not None:
                created.object_id, created.created_at = existing.object_id, existing.created_at
            return created

    def delete(self, who: Principal, raw_path: str | None, recursive: bool) -> None:
        path = normalize(raw_path)
        self._check_read(who, path)
        with self._lock:
            found = self._get(path)
            self._check_write(who, path)
            below = [p for p in self._objects if p.startswith(path + "/")]
            if found.object_type == "DIRECTORY" and below and not recursive:
                raise ApiError(400, "DIRECTORY_NOT_EMPTY", f"Folder ({path}) is not empty.")
            for p in [*below, path]:
                del self._objects[p]

    def _add(self, path: str, object_type: ObjectType, **fields: Any) -> WorkspaceObject:
        now = _now_ms()
        self._next_id += 1
        created = WorkspaceObject(path, object_type, self._next_id, now, now, **fields)
        self._objects[path] = created
        return created


def language_of(path: str) -> str | None:
    """The notebook language a file name's extension suggests (`.py` -> PYTHON)."""
    name = path.rsplit("/", 1)[-1].lower()
    return next((lang for ext, lang in _EXTENSIONS.items() if name.endswith(ext)), None)


def strip_header(content: bytes, language: str) -> tuple[bytes, bool]:
    """A notebook's source without its `Databricks notebook source` line, and whether it had one."""
    header = notebook_header(language)
    if content.startswith(header):
        return content[len(header) :].lstrip(b"\r").removeprefix(b"\n"), True
    return content, False
