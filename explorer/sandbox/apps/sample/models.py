"""Request and response models of the sample app (they give its OpenAPI document real schemas)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Greeting(BaseModel):
    message: str
    app: str


class ItemIn(BaseModel):
    name: str = Field(..., min_length=1, max_length=200, description="What the item is called")
    price: float = Field(0.0, ge=0, description="Unit price")
    tags: list[str] = Field(default_factory=list, description="Free-form labels")


class Item(ItemIn):
    id: int


class Identity(BaseModel):
    user: str | None = Field(None, description="X-Forwarded-User")
    email: str | None = Field(None, description="X-Forwarded-Email")
    preferred_username: str | None = Field(None, description="X-Forwarded-Preferred-Username")
    real_ip: str | None = Field(None, description="X-Real-Ip")
    request_id: str | None = Field(None, description="X-Request-Id")
    forwarded_host: str | None = Field(None, description="X-Forwarded-Host")
    access_token: str | None = Field(None, description="X-Forwarded-Access-Token, masked")
    authorization_seen: bool = Field(False, description="Whether an Authorization header reached the app")


class Echo(BaseModel):
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str


class SlowResult(BaseModel):
    slept_ms: int
