"""The connection form, derived from the auth-method registry (explorer.auth.METHODS).

The registry declares each method's fields once (name, label, secret, required, env var, help). The
page has one box per field *name* (methods share `host`, `client_id`, `scopes`, …); choosing a
method relabels the boxes for it and shows exactly the ones it takes from a form.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.auth import METHODS, Field
from explorer.trust import Trust

__all__ = ["METHODS", "BoxView", "box_names", "box_view", "fields_of", "is_secret", "method_choices"]


# The credential itself: never labelled "(optional)" even when the registry allows an alternative
# (a token env var, a token file, the config file's DEFAULT profile).
ESSENTIAL = frozenset({"profile", "token", "subject_token"})


@dataclass(frozen=True)
class BoxView:
    """How one field box looks for one method."""

    visible: bool
    label: str = ""
    placeholder: str = ""  # the field's help and env var: shown while the box is empty


def box_names() -> list[str]:
    """Every field name any method takes from the form, in registry order."""
    names: dict[str, None] = {}
    for name, method in METHODS.items():
        for f in method.fields:
            if _from_form(name, f):
                names.setdefault(f.name)
    return list(names)


def is_secret(name: str) -> bool:
    return any(f.secret for m in METHODS.values() for f in m.fields if f.name == name)


def _from_form(method: str, f: Field) -> bool:
    """env_only fields come from the environment; a forwarded method's token from the platform's header."""
    return f in METHODS[method].form_fields()


def fields_of(method: str) -> set[str]:
    """The names the method reads from the form (what connect passes on)."""
    m = METHODS.get(method)
    return {f.name for f in m.fields if _from_form(method, f)} if m else set()


def box_view(method: str, name: str, deployed: bool = False) -> BoxView:
    """How box `name` looks for `method`; deployed, fields naming server env vars or files are hidden."""
    m = METHODS.get(method)
    f = m.field(name) if m else None
    if f is None or not _from_form(method, f) or (deployed and f.reaches):
        return BoxView(visible=False)
    optional = not f.required and "optional" not in f.label.lower() and name not in ESSENTIAL
    label = f.label + (" (optional)" if optional else "")
    hints = [h for h in (f.help, f"or ${f.env_var}" if f.env_var and not deployed else "") if h]
    return BoxView(visible=True, label=label, placeholder=fit_placeholder(hints))


PLACEHOLDER_CHARS = 36  # what a sidebar box shows (13 px, 380 px sidebar) before it clips (measured: 37)


def fit_placeholder(hints: list[str]) -> str:
    """The hints as one placeholder that fits its box: all of them, else the first, shortened."""
    whole = " · ".join(hints)
    if len(whole) <= PLACEHOLDER_CHARS or not hints:
        return whole
    first = hints[0]
    if len(first) > PLACEHOLDER_CHARS and " (" in first:
        first = first.split(" (", 1)[0]
    return first if len(first) <= PLACEHOLDER_CHARS else first[: PLACEHOLDER_CHARS - 1] + "…"


def method_choices(trust: Trust, forwarded: bool = False) -> list[tuple[str, str]]:
    """(label, name) of the methods a session under `trust` may use (registry: `AuthMethod.offered`)."""
    return [(m.label, name) for name, m in METHODS.items() if m.offered(trust, forwarded)]
