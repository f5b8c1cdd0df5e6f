"""HAR 1.2 (a browser's devtools export, or the explorer's own history export) -> requests.

Pseudo-headers (`:authority`), hop-by-hop and computed headers (Host, Content-Length,
Connection, Accept-Encoding…) are dropped; credentials (`Authorization`, cookies, masked values
from the explorer's export) are never kept: the secret guard turns them into references, and
a masked value is dropped with a notice.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from explorer.collection.importers import ImportError_, ImportResult
from explorer.collection.model import Body, Collection, Folder, Notice, Pair, Request

_DROPPED = {
    "host",
    "content-length",
    "connection",
    "accept-encoding",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "user-agent",
}
MAX_ENTRIES = 5000


def from_har(text: str, name: str = "HAR import") -> ImportResult:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ImportError_(f"not a HAR file (not JSON: {str(error)[:80]})") from None
    log = data.get("log") if isinstance(data, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise ImportError_("not a HAR file: no log.entries")
    creator = (log.get("creator") or {}).get("name") if isinstance(log.get("creator"), dict) else None
    collection = Collection(
        name=name, description=f"Imported from a HAR file{f' ({creator})' if creator else ''}."
    )
    notices: list[Notice] = []
    names: dict[str, int] = {}
    by_host: dict[str, Folder] = {}
    for number, entry in enumerate(entries[:MAX_ENTRIES], start=1):
        request_data = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request_data, dict) or not isinstance(request_data.get("url"), str):
            notices.append(Notice(f"entry {number}", "has no request URL: skipped"))
            continue
        request, more = _request(request_data, number)
        base = request.name
        names[base] = names.get(base, 0) + 1
        if names[base] > 1:
            request.name = f"{base} ({names[base]})"
        notices += more
        host = urlsplit(request.url).netloc or "requests"
        if host not in by_host:
            by_host[host] = Folder(host)
            collection.root.items.append(by_host[host])
        by_host[host].items.append(request)
    if len(entries) > MAX_ENTRIES:
        notices.append(Notice(name, f"only the first {MAX_ENTRIES} of {len(entries)} entries were imported"))
    if len(by_host) == 1:  # one host: no folder needed
        collection.root.items = list(next(iter(by_host.values())).items)
    return ImportResult(collection, [], notices)


def _request(data: dict[str, Any], number: int) -> tuple[Request, list[Notice]]:
    method = str(data.get("method") or "GET").upper()
    parts = urlsplit(data["url"])
    url = urlunsplit(parts._replace(query="", fragment=""))
    query = data.get("queryString")
    if isinstance(query, list) and query:
        params = [
            Pair(str(q.get("name", "")), str(q.get("value", "")))
            for q in query
            if isinstance(q, dict) and q.get("name")
        ]
    else:
        params = [Pair(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    name = f"{method} {parts.path or '/'}"
    notices: list[Notice] = []
    headers = []
    for header in data.get("headers") if isinstance(data.get("headers"), list) else []:
        if not isinstance(header, dict):
            continue
        key, value = str(header.get("name", "")), str(header.get("value", ""))
        if not key or key.startswith(":") or key.lower() in _DROPPED:
            continue
        headers.append(Pair(key, value))
    body = None
    post = data.get("postData")
    if isinstance(post, dict):
        mime = str(post.get("mimeType") or "")
        if isinstance(post.get("text"), str) and post["text"]:
            body = Body(content=post["text"], content_type=mime or None)
        elif isinstance(post.get("params"), list) and post["params"]:
            pairs = [
                Pair(str(p.get("name", "")), str(p.get("value", "")))
                for p in post["params"]
                if isinstance(p, dict)
            ]
            if any(isinstance(p, dict) and p.get("fileName") for p in post["params"]):
                notices.append(Notice(name, "file uploads in the form are not imported"))
            body = Body(form_data=[p for p in pairs if p.name])
        if body is not None and mime:
            headers = [h for h in headers if h.name.lower() != "content-type"]
    return Request(name=name, method=method, url=url, params=params, headers=headers, body=body), notices
