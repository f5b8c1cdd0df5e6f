"""The Workspace API as the unmodified SDK calls it (`WorkspaceClient().workspace.*`):
`/api/2.0/workspace/list`, `get-status`, `mkdirs`, `import` (JSON with base64 content, or the
multipart form `upload()` posts), `export` (JSON with base64 content, or the bytes themselves
with `direct_download=true`) and `delete`.

Import formats: `SOURCE` (the default; a notebook, `language` required: the SDK derives it from
`.py`/`.sql`/`.scala`/`.R`), `AUTO` (a notebook when the content starts with its
`Databricks notebook source` line, the extension then dropped; a file otherwise) and `RAW` (a
file). Export formats: `SOURCE`, `AUTO` and `RAW`; a directory exports as a zip archive.
OAuth tokens need `all-apis` or `workspace`.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import zipfile
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from explorer.sandbox.identity.authority import Authority, Principal
from explorer.sandbox.rest.callers import ApiError, authenticate
from explorer.sandbox.rest.workspace_tree import (
    LANGUAGES,
    MAX_OBJECT_BYTES,
    WorkspaceObject,
    WorkspaceTree,
    language_of,
    normalize,
    strip_header,
)

IMPORT_FORMATS = ("SOURCE", "AUTO", "RAW")
EXPORT_FORMATS = ("SOURCE", "AUTO", "RAW")
KNOWN_FORMATS = ("AUTO", "DBC", "HTML", "JUPYTER", "RAW", "R_MARKDOWN", "SOURCE")
MAX_BODY_BYTES = MAX_OBJECT_BYTES * 4 // 3 + 64 * 1024  # base64 of the largest object, plus the rest


class WorkspaceApi:
    def __init__(self, authority: Authority):
        self._authority = authority
        self.tree = WorkspaceTree([p.username for p in authority.directory.principals()])

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/api/2.0/workspace", tags=["workspace"])
        router.add_api_route("/list", self.list, methods=["GET"])
        router.add_api_route("/get-status", self.get_status, methods=["GET"])
        router.add_api_route("/mkdirs", self.mkdirs, methods=["POST"])
        router.add_api_route("/import", self.import_, methods=["POST"])
        router.add_api_route("/export", self.export, methods=["GET"])
        router.add_api_route("/delete", self.delete, methods=["POST"])
        return router

    def _caller(self, request: Request) -> Principal:
        caller = authenticate(self._authority, request)
        caller.require_scope("workspace")
        return caller.principal

    def list(self, request: Request, path: str | None = None) -> dict[str, Any]:
        objects = self.tree.list(self._caller(request), path)
        return {"objects": [o.info() for o in objects]} if objects else {}

    def get_status(self, request: Request, path: str | None = None) -> dict[str, Any]:
        return self.tree.status(self._caller(request), path).info()

    async def mkdirs(self, request: Request) -> dict[str, Any]:
        who = self._caller(request)
        body = await _json_body(request)
        self.tree.mkdirs(who, _text(body, "path"))
        return {}

    async def delete(self, request: Request) -> dict[str, Any]:
        who = self._caller(request)
        body = await _json_body(request)
        self.tree.delete(who, _text(body, "path"), _flag(body.get("recursive")))
        return {}

    async def import_(self, request: Request) -> dict[str, Any]:
        who = self._caller(request)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data":
            fields, content = await _multipart(request)
        else:
            fields = await _json_body(request)
            content = _base64(fields.get("content"))
        fmt = _text(fields, "format") or "SOURCE"
        language = _text(fields, "language")
        if fmt not in KNOWN_FORMATS:
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"Invalid format: {fmt} (expected one of {', '.join(KNOWN_FORMATS)})",
            )
        if fmt not in IMPORT_FORMATS:
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"The sandbox imports only {', '.join(IMPORT_FORMATS)}, not {fmt}",
            )
        if language is not None and language not in LANGUAGES:
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"Invalid language: {language} (expected one of {', '.join(LANGUAGES)})",
            )
        path = normalize(_text(fields, "path"))
        overwrite = _flag(fields.get("overwrite"))
        if fmt == "SOURCE":
            if language is None:
                raise ApiError(
                    400,
                    "INVALID_PARAMETER_VALUE",
                    "The language is required to import a notebook in SOURCE format; to import a file, use format AUTO or RAW",
                )
            source, _ = strip_header(content, language)
            self.tree.put(who, path, source, object_type="NOTEBOOK", language=language, overwrite=overwrite)
            return {}
        if fmt == "AUTO":
            suggested = language_of(path)
            if suggested is not None:
                source, is_notebook = strip_header(content, suggested)
                if is_notebook:  # a notebook's extension is dropped, as on Databricks
                    notebook_path = path.rsplit(".", 1)[0]
                    self.tree.put(
                        who,
                        notebook_path,
                        source,
                        object_type="NOTEBOOK",
                        language=suggested,
                        overwrite=overwrite,
                    )
                    return {}
        self.tree.put(who, path, content, object_type="FILE", language=None, overwrite=overwrite)
        return {}

    def export(
        self,
        request: Request,
        path: str | None = None,
        format: str | None = None,
        direct_download: str | None = None,
    ) -> Any:
        who = self._caller(request)
        fmt = format or "SOURCE"
        if fmt not in KNOWN_FORMATS:
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"Invalid format: {fmt} (expected one of {', '.join(KNOWN_FORMATS)})",
            )
        if fmt not in EXPORT_FORMATS:
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"The sandbox exports only {', '.join(EXPORT_FORMATS)}, not {fmt}",
            )
        found = self.tree.status(who, path)
        if found.object_type == "DIRECTORY":
            content, file_type = self._zip(who, found, include_files=fmt != "SOURCE"), "zip"
        else:
            content, file_type = found.source(), found.file_type()
        if (direct_download or "").lower() == "true":
            name = found.path.rsplit("/", 1)[-1] or "root"
            filename = f"{name}.zip" if file_type == "zip" else name
            return Response(
                content,
                media_type="application/octet-stream",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return {"content": base64.b64encode(content).decode("ascii"), "file_type": file_type}

    def _zip(self, who: Principal, directory: WorkspaceObject, include_files: bool) -> bytes:
        buffer = io.BytesIO()
        prefix = directory.path.rstrip("/") + "/"
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for item in self.tree.subtree(who, directory.path):
                if item.object_type == "NOTEBOOK" or (include_files and item.object_type == "FILE"):
                    name = item.path[len(prefix) :]
                    if item.object_type == "NOTEBOOK":
                        name += "." + item.file_type()
                    archive.writestr(name, item.source())
        return buffer.getvalue()


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(400, "MAX_NOTEBOOK_SIZE_EXCEEDED", "The request body is too large")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request") from None
    if not isinstance(body, dict):
        raise ApiError(
            400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - expected a map"
        )
    return body


async def _multipart(request: Request) -> tuple[dict[str, Any], bytes]:
    """The form fields and the `content` part that `WorkspaceClient().workspace.upload()` posts."""
    try:
        form = await request.form(max_files=1, max_fields=20)
    except Exception as exc:  # python-multipart's parse errors have no common base class
        raise ApiError(
            400, "MALFORMED_REQUEST", f"The multipart body is not valid: {type(exc).__name__}"
        ) from None
    fields: dict[str, Any] = {}
    content = b""
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key == "content":
                    content = await value.read(MAX_OBJECT_BYTES + 1)
            else:
                fields[key] = value
    finally:
        await form.close()
    if "content" in fields and not content:
        content = str(fields.pop("content")).encode()
    return fields, content


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"{key} must be a string")
    return value


def _flag(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ApiError(400, "INVALID_PARAMETER_VALUE", f"expected true or false, got {str(value)[:20]!r}")


def _base64(value: Any) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, str):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "content must be a base64-encoded string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "content is not valid base64") from None
