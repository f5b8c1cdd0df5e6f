"""The session's exchanges: a table for the UI and exports (CSV, JSON, HAR 1.2), secrets redacted.

Exchanges reach the history with credential headers already masked by the sender; every
export still scrubs again (headers, URL query parameters such as `code` or `access_token`,
bodies, error text) because a response can echo a token and a user can type one anywhere.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import threading
from collections import OrderedDict, deque
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from explorer import __version__
from explorer.model import Exchange, Response
from explorer.redact import Redactor
from explorer.serialize import exchange_to_dict, full_url, iso

if TYPE_CHECKING:  # pandas (~0.25 s to import) loads when a table is wanted: the CLI never needs one
    import pandas as pd

MAX_BYTES = 64 * 1024 * 1024  # bodies a session's history keeps, in all
KEEP_PARSED = 50  # newest exchanges that keep their parsed JSON (Response.drop_parsed for the rest)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ["id", "time", "method", "url", "status", "elapsed_ms", "size", "auth", "identity"]
EXPORT_FORMATS: tuple[str, ...] = ("csv", "json", "har")
CREATOR = {"name": "Databricks Apps API Explorer", "version": __version__}


class History:
    """Thread-safe, bounded list of the session's exchanges, oldest first."""

    def __init__(
        self, redactor: Redactor | None = None, max_entries: int = 1000, max_bytes: int = MAX_BYTES
    ) -> None:
        self.redactor = redactor or Redactor()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Exchange] = OrderedDict()
        self._bytes = 0
        self._parsed: deque[Exchange] = deque()  # the newest entries, which keep their parsed JSON
        self._held: dict[str, int] = {}  # bytes each entry holds, as counted when it came

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __repr__(self) -> str:
        return f"History({len(self)} exchanges)"

    @property
    def size_bytes(self) -> int:
        """The bodies this history holds, in bytes (bounded by `max_bytes`)."""
        return self._bytes

    def add(self, exchange: Exchange) -> None:
        """Record `exchange` (replacing one with the same id); the oldest go past `max_entries`
        or past `max_bytes` of kept bodies (the newest exchange always stays)."""
        with self._lock:
            if self._items.pop(exchange.id, None) is not None:
                self._bytes -= self._held.pop(exchange.id, 0)
            self._items[exchange.id] = exchange
            self._held[exchange.id] = _held_bytes(exchange)
            self._bytes += self._held[exchange.id]
            self._parsed.append(exchange)
            while len(self._parsed) > KEEP_PARSED:  # older ones parse their body again when read
                older = self._parsed.popleft().response
                if older is not None:
                    older.drop_parsed()
            while len(self._items) > 1 and (
                len(self._items) > self.max_entries or self._bytes > self.max_bytes
            ):
                oldest_id, _oldest = self._items.popitem(last=False)
                self._bytes -= self._held.pop(oldest_id, 0)

    def exchanges(self) -> list[Exchange]:
        """A snapshot, oldest first."""
        with self._lock:
            return list(self._items.values())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._parsed.clear()
            self._held.clear()
            self._bytes = 0

    def rows(self) -> pd.DataFrame:
        """One row per exchange: id, time, method, url, status, elapsed_ms, size, auth, identity."""
        records = [_row(ex, self.redactor) for ex in self.exchanges()]
        import pandas as pd

        frame = pd.DataFrame(records, columns=COLUMNS)
        frame["status"] = frame["status"].astype("Int64")  # no response → <NA>, not a float
        frame["size"] = frame["size"].astype("Int64")
        return frame

    def export(self, fmt: str) -> tuple[str, str]:
        """(file name, text) of the history as "csv", "json" or "har"; secrets redacted."""
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"Unknown export format {fmt!r}: use csv, json or har")
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        exchanges = self.exchanges()
        if fmt == "csv":
            text = _csv(exchanges, self.redactor)
        elif fmt == "json":
            text = _dumps([exchange_to_dict(ex, self.redactor) for ex in exchanges])
        else:
            text = _dumps(to_har(exchanges, self.redactor))
        return f"explorer-history-{stamp}.{fmt}", text


def _held_bytes(ex: Exchange) -> int:
    response = ex.response
    held = len(ex.request.body or "")
    if response is not None:
        held += len(response.body) + len(response.text)
    return held


def _row(ex: Exchange, redactor: Redactor) -> dict[str, Any]:
    response = ex.response
    return {
        "id": ex.id,
        "time": datetime.fromtimestamp(ex.started_at).strftime("%Y-%m-%d %H:%M:%S"),
        "method": ex.request.method,
        "url": redactor.scrub_url(full_url(ex)),
        "status": response.status if response else None,
        "elapsed_ms": round(response.elapsed_ms, 1) if response else None,
        "size": response.size if response else None,
        "auth": ex.auth.method if ex.auth else "",
        "identity": redactor.scrub(_identity(ex)),
    }


def _identity(ex: Exchange) -> str:
    if ex.auth and ex.auth.identity:
        return ex.auth.identity
    return (ex.token.subject if ex.token else None) or ""


def _csv(exchanges: list[Exchange], redactor: Redactor) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for ex in exchanges:
        row = _row(ex, redactor)
        writer.writerow([_csv_cell(row[c]) for c in COLUMNS])
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab/CR) would run as a
    formula (a token's `sub` or a URL can start with one), so it gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value


csv_cell = _csv_cell  # the same neutralising for every CSV the explorer writes (the matrix's too)


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


# --- HAR 1.2 ---------------------------------------------------------------------------------


def to_har(exchanges: list[Exchange], redactor: Redactor | None = None) -> dict[str, Any]:
    """A HAR 1.2 log (http://www.softwareishard.com/blog/har-12-spec/) of `exchanges`."""
    redactor = redactor or Redactor()
    return {
        "log": {
            "version": "1.2",
            "creator": CREATOR,
            "entries": [_har_entry(ex, redactor) for ex in exchanges],
        }
    }


def _har_entry(ex: Exchange, redactor: Redactor) -> dict[str, Any]:
    response = ex.response
    timings = har_timings(response)
    entry: dict[str, Any] = {
        "startedDateTime": iso(ex.started_at),
        "time": round(sum(v for v in timings.values() if v > 0), 3),
        "request": _har_request(ex, redactor),
        "response": _har_response(response, redactor),
        "cache": {},
        "timings": timings,
    }
    if response is not None and response.timings is not None and not response.timings.reused:
        entry["connection"] = "new"
    notes = [f"{f.code}: {f.message}" for f in ex.findings]
    if ex.error:
        notes.insert(0, ex.error)
    if notes:
        entry["comment"] = redactor.scrub(" | ".join(notes))
    return entry


def har_timings(response: Response | None) -> dict[str, float]:
    """HAR 1.2 `timings`: blocked, dns, connect, ssl (-1 when not applicable), send, wait, receive.
    HAR's `connect` includes `ssl`; the explorer's own timings keep them apart."""
    if response is None:
        return {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": 0, "receive": 0}
    t = response.timings
    if t is None:  # an exchange recorded before timings existed: wait and receive from the totals
        wait = max(0.0, response.ttfb_ms)
        return {"send": 0, "wait": round(wait, 3), "receive": round(max(0.0, response.elapsed_ms - wait), 3)}

    def phase(value: float | None) -> float:
        return -1 if value is None else round(value, 3)

    connect = None if t.connect_ms is None else t.connect_ms + (t.tls_ms or 0.0)
    return {
        "blocked": -1,
        "dns": phase(t.dns_ms),
        "connect": phase(connect),
        "ssl": phase(t.tls_ms),
        "send": round(t.send_ms or 0.0, 3),
        "wait": round(t.wait_ms or 0.0, 3),
        "receive": round(t.receive_ms or 0.0, 3),
    }


def _har_request(ex: Exchange, redactor: Redactor) -> dict[str, Any]:
    request = ex.request
    url = redactor.scrub_url(full_url(ex))
    body = redactor.scrub_body(request.body, _content_type(request.headers)) if request.body else None
    har: dict[str, Any] = {
        "method": request.method,
        "url": url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _har_headers(redactor.scrub_headers(request.headers)),
        "queryString": [
            {"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": len(body.encode("utf-8")) if body else 0,
    }
    if body:
        har["postData"] = {
            "mimeType": _content_type(request.headers) or "application/octet-stream",
            "text": body,
        }
    return har


def _har_response(response: Response | None, redactor: Redactor) -> dict[str, Any]:
    if response is None:  # no response arrived; HAR still needs the object (browsers use status 0)
        return {
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "cookies": [],
            "headers": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        }
    return {
        "status": response.status,
        "statusText": response.reason,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _har_headers(redactor.scrub_headers(response.headers)),
        "content": _har_content(response, redactor),
        "redirectURL": redactor.scrub_url(response.location) if response.location else "",
        "headersSize": -1,
        "bodySize": response.size,
    }


def _har_content(response: Response, redactor: Redactor) -> dict[str, Any]:
    content: dict[str, Any] = {"size": response.size, "mimeType": response.content_type or "x-unknown"}
    if response.kind == "binary":
        content.update(
            text=base64.b64encode(scrub_bytes(response.body, redactor)).decode("ascii"), encoding="base64"
        )
    elif response.kind != "empty":
        raw = response.body.decode("utf-8", errors="replace") if response.body else response.text
        content["text"] = redactor.scrub_body(raw, response.content_type)
    if response.truncated:
        content["comment"] = f"body truncated to {len(response.body)} of {response.size} bytes"
    if response.stream:  # HAR allows custom fields with a leading underscore: the events and when they came
        content["_events"] = [redactor.scrub_values(e.as_dict()) for e in response.events]
        content["_eventsTotal"] = response.events_total
    return content


def scrub_bytes(body: bytes, redactor: Redactor) -> bytes:
    """Binary bodies can still carry a token in ASCII; scrub through a lossless decoding."""
    raw = body.decode("latin-1")
    cleaned = redactor.scrub(raw)
    # Other bytes survive the latin-1 round trip unchanged; the mask's "…" becomes "?".
    return body if cleaned == raw else cleaned.encode("latin-1", errors="replace")


def _har_headers(headers: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in headers]


def _content_type(headers: list[tuple[str, str]]) -> str:
    return next((v for k, v in headers if k.lower() == "content-type"), "")
