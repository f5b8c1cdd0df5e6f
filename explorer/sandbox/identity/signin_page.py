"""The workspace sign-in page: one button per sandbox user (there are no passwords in the sandbox)."""

from __future__ import annotations

from html import escape

from explorer.sandbox.identity.authority import Principal

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f5f6f8;margin:0;display:flex;justify-content:center}
main{background:#fff;margin-top:8vh;padding:2rem 2.5rem;border-radius:10px;box-shadow:0 2px 12px #0002;max-width:30rem}
h1{font-size:1.3rem;margin:0 0 .3rem} p{color:#444} code{background:#eef;padding:0 .3em;border-radius:3px}
button{display:block;width:100%;text-align:left;margin:.5rem 0;padding:.7rem 1rem;border:1px solid #ccd;
border-radius:6px;background:#fafbff;cursor:pointer;font-size:1rem} button:hover{background:#eef2ff}
button small{display:block;color:#666} .cancel{background:none;border:none;color:#a33;text-align:center}
"""


def signin_page(params: dict[str, str], users: list[Principal], client_label: str, note: str = "") -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in sorted(params.items())
        if k != "user"
    )
    buttons = "".join(
        f'<button type="submit" name="user" value="{escape(u.username)}">{escape(u.display_name)}'
        f"<small>{escape(u.username)}</small></button>"
        for u in users
    )
    scopes = (
        " ".join(f"<code>{escape(s)}</code>" for s in params.get("scope", "").split())
        or "<code>all-apis</code>"
    )
    note_html = f"<p><em>{escape(note)}</em></p>" if note else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - sandbox workspace</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>
<body><main>
<h1>Sign in to the sandbox workspace</h1>
<p>{escape(client_label)} asks for access with the scopes {scopes}.</p>{note_html}
<form method="post" action="/oidc/v1/authorize">{hidden}{buttons}
<button class="cancel" type="submit" name="user" value="">Cancel</button></form>
</main></body></html>"""


def error_page(title: str, message: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{_STYLE}</style></head>
<body><main><h1>{escape(title)}</h1><p>{escape(message)}</p></main></body></html>"""
