"""Look and feel: theme, stylesheet and page script, passed to launch() / mount_gradio_app().

Gradio 6 takes theme and css at launch (not in Blocks()), so whoever serves the Blocks —
`launch.py` locally, `explorer/server.py` deployed — splats `page_options()` into that call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

CSS_PATH = Path(__file__).with_name("style.css")

# Keeps every expiry countdown on the page ticking without a server round trip per second.
# `data-left` is the seconds left when the server rendered it; the browser's clock only measures
# the time since, so a skewed client clock does not matter.
COUNTDOWN_JS = """
const seen = new WeakMap();
const fmt = (s) => {
  const a = Math.abs(s);
  const t = a >= 3600
    ? Math.floor(a / 3600) + " h " + String(Math.floor((a % 3600) / 60)).padStart(2, "0") + " min"
    : Math.floor(a / 60) + ":" + String(a % 60).padStart(2, "0");
  return s >= 0 ? t + " left" : "expired " + t + " ago";
};
setInterval(() => {
  element.querySelectorAll("[data-left]").forEach((el) => {
    if (!seen.has(el)) seen.set(el, Date.now());
    const s = Number(el.dataset.left) - Math.floor((Date.now() - seen.get(el)) / 1000);
    el.textContent = fmt(s);
    el.classList.toggle("expired", s < 0);
    el.classList.toggle("soon", s >= 0 && s < 300);
  });
}, 1000);
"""

# The "Sending… 1.2 s" notice counts up in the browser from the time the server started the send;
# while it shows, #main has the class `is-sending` (the previous answer is dimmed).
# "Fill in the path parameter {x}": the path table's first empty value cell gets the focus.
SENDING_JS = """
new MutationObserver(() => {
  // While a request runs, the previous answer is dimmed (style.css: #main.is-sending), and the
  // page asks for the send's stream as it arrives (once per send: handlers.follow_stream).
  const sending = element.querySelector(".sending-text[data-started]");
  document.getElementById("main")?.classList.toggle("is-sending", !!sending);
  if (sending && sending.dataset.started !== element.dataset.followed) {
    element.dataset.followed = sending.dataset.started;
    document.querySelector("#follow-stream")?.click();
  }
  if (!element.textContent.includes("Fill in the path parameter")) return;
  const cells = [...document.querySelectorAll('#path-table [role="gridcell"][data-col="1"]')];
  const cell = cells.find((c) => !c.textContent.trim());
  if (cell && !cell.classList.contains("cell-selected")) {
    cell.scrollIntoView({ block: "nearest" }); cell.click();
    cell.dispatchEvent(new MouseEvent("dblclick", { bubbles: true }));  // editing: typing fills it in
  }
}).observe(element, { childList: true, subtree: true, characterData: true });
setInterval(() => {
  element.querySelectorAll("[data-started]").forEach((el) => {
    const s = Math.max(0, Date.now() / 1000 - Number(el.dataset.started));
    el.textContent = "Sending… " + s.toFixed(1) + " s";
  });
}, 100);
"""

# The page's keyboard and its in-HTML buttons (one script, in the page's head):
# Ctrl/Cmd+Enter sends from anywhere in the request; Esc cancels a running send; Tab leaves the
# body editor instead of indenting; focusing the method box selects it, so typing replaces it;
# a fix button (banner, Diagnosis) hands its finding's index to the apply_fix event; "n more"
# opens the Diagnosis tab; Enter in the endpoint filter is the filter's own submit event.
KEYBOARD_HEAD = """
<script>
(() => {
  const visible = (el) => el && el.offsetParent !== null;
  const click = (id) => { const b = document.querySelector(id); if (visible(b)) { b.click(); return true; } return false; };
  const inRequest = (el) => el && el.closest && el.closest("#reqbar, #reqtabs, #tabbar, #path-group");
  window.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && inRequest(e.target)) {
      e.preventDefault(); e.stopPropagation();
      if (e.target.blur) { e.target.blur(); }
      setTimeout(() => click("#send"), 120);  // after the box's change reached the server's form
      return;
    }
    if (e.key === "Escape" && visible(document.querySelector("#cancel"))) {
      e.preventDefault(); click("#cancel"); return;
    }
    if (e.key === "Tab" && !e.ctrlKey && !e.altKey && e.target.closest && e.target.closest("#body .cm-content")) {
      e.preventDefault(); e.stopPropagation();
      const next = e.shiftKey ? document.querySelector("#reqtabs [role=tab][aria-selected=true]") : document.querySelector("#send");
      if (visible(next)) { next.focus(); } else { e.target.blur(); }
    }
  }, true);
  document.addEventListener("focusin", (e) => {
    if (e.target.matches && e.target.matches("#http-method input")) { setTimeout(() => e.target.select(), 0); }
  });
  document.addEventListener("click", (e) => {
    const fix = e.target.closest && e.target.closest("button.fix-action");
    if (fix) {
      const box = document.querySelector("#fix-index textarea, #fix-index input");
      if (box) {
        box.value = fix.dataset.fix + ":" + Date.now();
        box.dispatchEvent(new Event("input", { bubbles: true }));
        setTimeout(() => document.querySelector("#apply-fix").click(), 80);
      }
      return;
    }
    const more = e.target.closest && e.target.closest("[data-open-tab]");
    if (more) {
      const tab = [...document.querySelectorAll("#resptabs [role=tab]")].find((t) => t.textContent.trim().startsWith(more.dataset.openTab));
      if (tab) { tab.click(); }
    }
  });
})();
</script>
"""

_SYSTEM_FONT = ("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif")
_MONO_FONT = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")


def explorer_theme() -> gr.themes.Base:
    """A compact, neutral tool theme; local fonts only, so the offline demo loads nothing remote."""
    return gr.themes.Default(
        primary_hue=gr.themes.colors.orange,
        secondary_hue=gr.themes.colors.slate,
        neutral_hue=gr.themes.colors.slate,
        text_size=gr.themes.sizes.text_sm,
        spacing_size=gr.themes.sizes.spacing_sm,
        radius_size=gr.themes.sizes.radius_sm,
        font=_SYSTEM_FONT,
        font_mono=_MONO_FONT,
    ).set(
        body_background_fill="*neutral_50",
        body_background_fill_dark="*neutral_950",
        block_background_fill_dark="*neutral_900",
        block_border_width="1px",
        block_shadow="none",
        block_title_text_weight="600",
        # WCAG AA (4.5:1) for white text on the primary buttons, and for subdued text in both themes.
        button_primary_background_fill="#c2410c",
        button_primary_background_fill_hover="#9a3412",
        button_primary_background_fill_dark="#c2410c",
        button_primary_background_fill_hover_dark="#9a3412",
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_400",
        input_placeholder_color="*neutral_500",
        input_placeholder_color_dark="*neutral_400",
        button_primary_text_color="white",
        button_large_padding="6px 14px",
    )


def page_options() -> dict[str, Any]:
    """Keyword arguments for `Blocks.launch()` and `gr.mount_gradio_app()`."""
    return {"theme": explorer_theme(), "css_paths": [CSS_PATH], "head": KEYBOARD_HEAD}
