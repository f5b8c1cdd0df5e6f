"""SCIM `Me`: who the caller is, as `/api/2.0/preview/scim/v2/Me` answers it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from explorer.sandbox.identity.authority import Authority, Principal
from explorer.sandbox.rest.callers import authenticate


class ScimApi:
    def __init__(self, authority: Authority):
        self._authority = authority

    def router(self) -> APIRouter:
        router = APIRouter(tags=["workspace"])
        router.add_api_route("/api/2.0/preview/scim/v2/Me", self.me, methods=["GET"])
        return router

    def me(self, request: Request) -> dict:
        caller = authenticate(self._authority, request)
        caller.require_scope("iam.current-user:read")
        return scim_user(caller.principal)


def scim_user(principal: Principal) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": principal.id,
        "userName": principal.username,
        "displayName": principal.display_name,
        "active": True,
        "emails": [],
        "groups": [{"display": "users", "type": "direct", "value": "users"}],
    }
    if principal.kind == "user":
        given, _, family = principal.display_name.partition(" ")
        body["emails"] = [{"value": principal.username, "type": "work", "primary": True}]
        body["name"] = {"givenName": given, "familyName": family}
    return body
