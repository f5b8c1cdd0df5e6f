"""The collection model: plain dataclasses the files, the importers and the runner share.

A `Collection` is a tree of `Folder`s holding `Request`s, with defaults and variables; an
`Environment` is a named set of variables plus the auth method to use. Nothing here holds a
secret: auth references name a method and its non-secret fields only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Pair:
    """A header, query parameter or form field. Disabled pairs are kept but not sent."""

    name: str
    value: str
    enabled: bool = True


@dataclass
class Body:
    """A request body: raw `content` (JSON, text…) or urlencoded `form_data` (posting's semantics)."""

    content: str | None = None
    content_type: str | None = None
    form_data: list[Pair] | None = None


@dataclass
class AuthRef:
    """An auth method (`explorer.auth.METHODS` name, or "none"/"inherit") and its non-secret fields."""

    method: str
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.method, tuple(sorted(self.fields.items()))


@dataclass
class BasicAuth:
    """posting's `auth: {type: basic|bearer_token}`; the secret part is always a variable reference."""

    type: str  # "basic" or "bearer_token"
    username: str = ""
    password: str = ""  # a reference such as {{password}}
    token: str = ""  # a reference such as {{token}}


@dataclass
class Request:
    """One request file. `path` is its file, relative to the collection root (POSIX separators)."""

    name: str
    method: str = "GET"
    url: str = ""
    params: list[Pair] = field(default_factory=list)
    headers: list[Pair] = field(default_factory=list)
    body: Body | None = None
    description: str = ""  # notes, Markdown
    timeout: float | None = None
    auth_method: AuthRef | None = None  # None: the collection's / environment's identity
    auth: BasicAuth | None = None  # posting-style basic / bearer auth (references only)
    assertions: list[dict[str, Any]] = field(default_factory=list)
    extractions: list[dict[str, Any]] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)  # identity name -> expected status (matrix runs)
    path: str = ""

    def comparable(self) -> dict[str, Any]:
        """Everything that defines the request, without where it is stored (for round-trip checks)."""
        from dataclasses import asdict

        data = asdict(self)
        data.pop("path")
        return data


@dataclass
class Folder:
    """A folder of requests and sub-folders, in their explicit order."""

    name: str
    path: str = ""  # relative to the collection root; "" for the root
    description: str = ""
    items: list[Request | Folder] = field(default_factory=list)

    def requests(self) -> Iterator[tuple[tuple[str, ...], Request]]:
        """Every request, depth first in order, with the names of the folders it sits in."""
        for item in self.items:
            if isinstance(item, Folder):
                for trail, request in item.requests():
                    yield (item.name, *trail), request
            else:
                yield (), item


@dataclass
class Defaults:
    headers: list[Pair] = field(default_factory=list)
    auth: AuthRef | None = None
    timeout: float | None = None


@dataclass
class LoadError:
    """A file that could not be loaded: where, which field, what is wrong."""

    path: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.path}{where}: {self.message}"


@dataclass
class Collection:
    name: str
    description: str = ""
    defaults: Defaults = field(default_factory=Defaults)
    variables: dict[str, str] = field(default_factory=dict)
    openapi: str | None = None  # URL (may hold variables) or file of the app's OpenAPI document
    root: Folder = field(default_factory=lambda: Folder(""))
    errors: list[LoadError] = field(default_factory=list)

    def requests(self) -> list[tuple[tuple[str, ...], Request]]:
        return list(self.root.requests())


@dataclass
class Environment:
    name: str
    variables: dict[str, str] = field(default_factory=dict)
    auth: AuthRef | None = None
    description: str = ""


@dataclass
class Notice:
    """Something an import or a save changed or left out, said once (e.g. a secret not stored)."""

    where: str  # a request name or file
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"
