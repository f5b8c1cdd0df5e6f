"""Importers: OpenAPI documents, Postman collections, curl commands and HAR files -> collections.

Each returns an `ImportResult`: the collection (and environments), plus notices saying what was
changed or left out (a secret turned into a reference, a script that is not run). Nothing here
writes files: `files.save_collection` does, through the secret guard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from explorer.collection.model import Collection, Environment, Notice


class ImportError_(ValueError):
    """The source cannot be imported; `str()` is one readable line."""


@dataclass
class ImportResult:
    collection: Collection
    environments: list[Environment] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # values seen in the source, for the redactor
    files: dict[str, str] = field(default_factory=dict)  # more files to write (path -> text)
