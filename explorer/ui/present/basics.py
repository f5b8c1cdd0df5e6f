"""Small shared formatters: sizes, durations, countdowns, chips, findings cards, JSON text."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from html import escape
from typing import Any

from explorer.codes import rank
from explorer.model import Finding, Fix, TokenInfo


def as_json(value: Any) -> str:
    """JSON text for the hidden scripting outputs (bytes and other oddities as strings)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def human_ms(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def countdown_text(seconds_left: float) -> str:
    """`59:12 left`, `2 h 05 min left`, `expired 3:07 ago` (the page's script keeps it ticking)."""
    left = int(seconds_left)
    span = abs(left)
    if span >= 3600:
        text = f"{span // 3600} h {span % 3600 // 60:02d} min"
    else:
        text = f"{span // 60}:{span % 60:02d}"
    return f"{text} left" if left >= 0 else f"expired {text} ago"


def countdown_html(token: TokenInfo, now: float) -> str:
    left = token.seconds_left(now)
    if left is None:
        return '<span class="muted">no expiry</span>'
    state = "expired" if left < 0 else "soon" if left < 300 else ""
    return f'<span class="countdown {state}" data-left="{int(left)}">{countdown_text(left)}</span>'


def chips(items: Iterable[str], kind: str = "") -> str:
    return "".join(f'<span class="chip {kind}">{escape(i)}</span>' for i in items)


def status_class(status: int | None) -> str:
    if status is None:
        return "s-err"
    return {2: "s-2xx", 3: "s-3xx", 4: "s-4xx", 5: "s-5xx"}.get(status // 100, "s-err")


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most important first; the order among equals is the engine's."""
    return sorted(findings, key=lambda f: rank(f.code, f.severity))


def code_html(text: Any) -> str:
    return f"<code>{escape(str(text))}</code>"


def utc_time(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


_CODE_SPAN = re.compile(r"`([^`]+)`")


def rich_text(text: str) -> str:
    """Escaped text with its `code spans` as <code> (the GUI never shows literal backticks)."""
    return _CODE_SPAN.sub(lambda m: f"<code>{m.group(1)}</code>", escape(text or ""))


def fix_button(action: Fix | None, index: int) -> str:
    """A fix the explorer can apply, as a button the page's script hands to the apply_fix event."""
    if action is None:
        return ""
    return (
        f'<button type="button" class="fix-action" data-fix="{index}" '
        f'title="{escape(action.label, quote=True)}">{rich_text(action.label)}</button>'
    )


def finding_card(f: Finding, index: int, cls: str = "finding", fix_text: bool = True) -> str:
    """One finding: severity, code, message, the fix as text (code spans as code) and as an action."""
    text = f'<div class="ffix"><b>Fix</b> {rich_text(f.fix)}</div>' if fix_text or f.action is None else ""
    return (
        f'<div class="{cls} {escape(f.severity)}"><div class="finding-head">'
        f'<span class="sev">{escape(f.severity)}</span><code class="fcode">{escape(f.code)}</code></div>'
        f'<div class="fmsg">{rich_text(f.message)}</div>{text}{fix_button(f.action, index)}</div>'
    )


def findings_html(findings: Iterable[Finding], ok: bool = False, actions: bool = True) -> str:
    """Findings, most important first; `actions`: fixes the explorer can apply as buttons (their
    index is the finding's position in this order)."""
    items = sorted_findings(findings)
    if not items:
        text = "No problems found." if ok else "Nothing to diagnose yet."
        return f'<div class="findings empty">{text}</div>'
    cards = "".join(finding_card(f if actions else _without_action(f), i) for i, f in enumerate(items))
    return f'<div class="findings">{cards}</div>'


def _without_action(f: Finding) -> Finding:
    return Finding(f.code, f.severity, f.message, f.fix)
