"""A pasted `curl …` command (a browser's "Copy as cURL", Databricks docs) -> a request.

Understands -X/--request, -H/--header, -d/--data/--data-raw/--data-binary/--data-ascii,
--data-urlencode, --json, -G/--get, -u/--user, -b/--cookie, -A/--user-agent, -e/--referer,
-m/--max-time, --url, -F/--form (text fields), -I/--head; ignores output and connection flags
(-s, -S, -k, -L, -i, -v, --compressed, -o …). Line continuations (`\\` and PowerShell's `^`)
are joined. A bearer token is never kept: the secret guard turns it into the `token` auth
method (reading `$TOKEN` when the command said `$TOKEN`, else `$DATABRICKS_TOKEN`).
"""

from __future__ import annotations

import base64
import re
import shlex
from urllib.parse import parse_qsl, quote_plus, urlsplit, urlunsplit

from explorer.collection.importers import ImportError_
from explorer.collection.model import BasicAuth, Body, Notice, Pair, Request

_IGNORED_FLAGS = {
    "-s",
    "--silent",
    "-S",
    "--show-error",
    "-k",
    "--insecure",
    "-L",
    "--location",
    "-i",
    "--include",
    "-v",
    "--verbose",
    "--compressed",
    "-f",
    "--fail",
    "--fail-with-body",
    "-N",
    "--no-buffer",
    "-#",
    "--progress-bar",
    "--http1.1",
    "--http2",
    "--http2-prior-knowledge",
    "-g",
    "--globoff",
    "-O",
    "--remote-name",
    "-J",
    "--remote-header-name",
    "--no-progress-meter",
    "--tr-encoding",
    "-q",
}
_IGNORED_WITH_VALUE = {
    "-o",
    "--output",
    "-w",
    "--write-out",
    "--connect-timeout",
    "--retry",
    "--retry-delay",
    "--retry-max-time",
    "-x",
    "--proxy",
    "--cacert",
    "--capath",
    "--cert",
    "--key",
    "-c",
    "--cookie-jar",
    "--resolve",
    "--limit-rate",
    "-r",
    "--range",
    "--max-redirs",
    "--interface",
    "-D",
    "--dump-header",
    "--stderr",
    "--trace",
    "--trace-ascii",
}
_DATA = {"-d", "--data", "--data-raw", "--data-binary", "--data-ascii"}


def split_command(text: str) -> list[str]:
    """The command's words, continuations joined; raises ImportError_ for unbalanced quotes."""
    joined = re.sub(r"\\\r?\n|\^\r?\n|`\r?\n", " ", text.strip())
    try:
        words = shlex.split(joined, posix=True)
    except ValueError as error:
        raise ImportError_(f"cannot read the curl command: {error}") from None
    if not words or words[0].rsplit("/", 1)[-1] not in ("curl", "curl.exe"):
        raise ImportError_("not a curl command: it must start with `curl`")
    return words[1:]


def parse_curl(text: str, name: str | None = None) -> tuple[Request, list[Notice]]:
    """The request a curl command sends, and notices for what was not kept."""
    words = split_command(text)
    method: str | None = None
    url: str | None = None
    headers: list[Pair] = []
    data: list[str] = []
    form: list[Pair] = []
    get = head = False
    user: str | None = None
    timeout: float | None = None
    json_body = False
    notices: list[str] = []
    index = 0

    def value_of(flag: str) -> str:
        nonlocal index
        index += 1
        if index >= len(words):
            raise ImportError_(f"curl option {flag} needs a value")
        return words[index]

    while index < len(words):
        word = words[index]
        flag, eq, inline = word.partition("=") if word.startswith("--") else (word, "", "")
        if (
            word.startswith("-")
            and not word.startswith("--")
            and len(word) > 2
            and word[:2] in ("-X", "-H", "-d", "-u", "-A", "-e", "-b", "-m", "-F")
        ):
            flag, inline, eq = word[:2], word[2:], "="  # -XPOST, -HAccept:x
        take = (lambda f=flag, v=inline: v) if eq else (lambda f=flag: value_of(f))
        if flag in ("-X", "--request"):
            method = take().upper()
        elif flag in ("-H", "--header"):
            header = take()
            key, colon, val = header.partition(":")
            if not colon:
                notices.append(f"header {header[:40]!r} has no ':' and was skipped")
            elif val.strip() == "" and header.rstrip().endswith(";"):
                headers.append(Pair(key.strip(), ""))
            else:
                headers.append(Pair(key.strip(), val.strip()))
        elif flag in _DATA:
            value = take()
            if value.startswith("@") and flag != "--data-raw":
                notices.append(f"{flag} {value[:40]!r} reads a file: the file's content is not imported")
                continue
            data.append(value)
        elif flag == "--data-urlencode":
            value = take()
            key, eq_sign, val = value.partition("=")
            data.append(f"{key}={quote_plus(val)}" if eq_sign else quote_plus(value))
        elif flag == "--json":
            data.append(take())
            json_body = True
        elif flag in ("-F", "--form", "--form-string"):
            key, _, val = take().partition("=")
            if val.startswith("@") or val.startswith("<"):
                notices.append(f"form field {key!r} uploads a file: not imported")
            else:
                form.append(Pair(key, val))
        elif flag in ("-G", "--get"):
            get = True
        elif flag in ("-I", "--head"):
            head = True
        elif flag in ("-u", "--user"):
            user = take()
        elif flag == "--oauth2-bearer":
            headers.append(Pair("Authorization", f"Bearer {take()}"))
        elif flag in ("-b", "--cookie"):
            headers.append(Pair("Cookie", take()))
        elif flag in ("-A", "--user-agent"):
            headers.append(Pair("User-Agent", take()))
        elif flag in ("-e", "--referer"):
            headers.append(Pair("Referer", take()))
        elif flag in ("-m", "--max-time"):
            try:
                timeout = float(take())
            except ValueError:
                notices.append("--max-time is not a number: ignored")
        elif flag == "--url":
            url = take()
        elif flag in _IGNORED_FLAGS:
            pass
        elif flag in _IGNORED_WITH_VALUE:
            take()
        elif word.startswith("-") and len(word) > 1:
            # Bundled short flags such as -sS or -sSL are output flags only.
            if not word.startswith("--") and all(f"-{c}" in _IGNORED_FLAGS for c in word[1:]):
                pass
            else:
                notices.append(f"option {word[:40]} is not understood and was ignored")
        elif url is None:
            url = word
        else:
            notices.append(f"extra argument {word[:40]!r} ignored")
        index += 1

    if not url:
        raise ImportError_("the curl command has no URL")
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url):
        url = "http://" + url  # curl's default
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parses the port: "host:abc" is refused here, not when sending
    except ValueError as error:
        raise ImportError_(f"the curl command's URL {url[:60]!r} cannot be read: {error}") from None
    params = [Pair(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    url = urlunsplit(parts._replace(query="", fragment=""))
    body: Body | None = None
    lowered = {h.name.lower(): h.value for h in headers}
    if get and data:
        for chunk in data:
            params += [Pair(k, v) for k, v in parse_qsl(chunk, keep_blank_values=True)]
        data = []
    if data:
        content = "&".join(data)
        content_type = None
        if json_body:
            content_type = "application/json"
            if "accept" not in lowered:
                headers.append(Pair("Accept", "application/json"))
        elif "content-type" not in lowered:
            content_type = "application/x-www-form-urlencoded"  # curl's default for -d
        body = Body(content=content, content_type=content_type)
    elif form:
        body = Body(form_data=form)
        notices.append("-F sends multipart form data; it is imported as a urlencoded form")
    auth = None
    if user is not None:
        username, _colon, password = user.partition(":")
        auth = BasicAuth("basic", username=username, password=password)
    if parts.username:
        auth = BasicAuth("basic", username=parts.username, password=parts.password or "")
        url = urlunsplit(urlsplit(url)._replace(netloc=parts.netloc.rpartition("@")[2]))
    final_method = method or ("HEAD" if head else "POST" if body is not None else "GET")
    request = Request(
        name=name or f"{final_method} {parts.path or '/'}",
        method=final_method,
        url=url,
        params=params,
        headers=headers,
        body=body,
        auth=auth,
        timeout=timeout,
    )
    return request, [Notice(request.name, n) for n in notices]


def basic_header_secret(request: Request) -> list[str]:
    """Secrets a parsed command carries (for the redactor): passwords, tokens, Basic credentials."""
    secrets = []
    if request.auth is not None and request.auth.password:
        secrets.append(request.auth.password)
        secrets.append(base64.b64encode(f"{request.auth.username}:{request.auth.password}".encode()).decode())
    for header in request.headers:
        _scheme, _, credential = header.value.partition(" ")
        if header.name.lower() in ("authorization", "proxy-authorization") and credential:
            secrets.append(credential.strip())
    return [s for s in secrets if s and not s.startswith(("$", "{{"))]
