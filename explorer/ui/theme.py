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

# On the status line: what the server put there ends the page's own "Sending…" (see KEYBOARD_HEAD);
# while it shows the server's "Sending… n s" (a tab still sending, or a stream under way), #main has
# the class `is-sending` (the previous answer is dimmed, Cancel shown) and the stream is followed.
# "Fill in the path parameter {x}": the path table's first empty value cell gets the focus.
SENDING_JS = """
new MutationObserver(() => document.querySelector("#main")?.classList.remove("sending-now"))
  .observe(element, { childList: true });
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
"""

# After a send's event, answered or not (a JS-only step: no server call): the page's "Sending…" ends.
SENT_JS = '() => { document.querySelector("#main")?.classList.remove("sending-now"); }'

# What the page shows while a send runs, before any answer (theme's CSS shows it for #main.sending-now).
SENDING_LINE = (
    '<div class="statusline sending"><span class="spinner"></span>'
    '<span class="sending-text" data-started="0">Sending…</span>'
    '<span class="muted small">Esc or Cancel stops it</span></div>'
)

# The page's keyboard and its in-HTML buttons (one script, in the page's head):
# Ctrl/Cmd+Enter sends from anywhere in the request; Esc cancels a running send; Tab leaves the
# body editor instead of indenting; focusing the method box selects it, so typing replaces it;
# a failed Connect marks the fields it blames; a fix button (banner, Diagnosis) hands its finding's
# index to the apply_fix event; "n more"
# opens the Diagnosis tab; Enter in the endpoint filter is the filter's own submit event.
KEYBOARD_HEAD = """
<script>
(() => {
  const visible = (el) => el && el.offsetParent !== null;
  const click = (id) => { const b = document.querySelector(id); if (visible(b)) { b.click(); return true; } return false; };
  const inRequest = (el) => el && el.closest && el.closest("#reqbar, #reqtabs, #tabbar, #path-group");
  // Send pressed: the page says "Sending… n s" over the previous answer and offers Cancel at once,
  // with no event for it; the send's answer (or its end, SENT_JS) takes it away.
  const markSending = () => {
    const main = document.querySelector("#main");
    if (!main) return;
    main.classList.add("sending-now");
    const text = document.querySelector("#sending-line .sending-text");
    if (text) { text.dataset.started = String(Date.now() / 1000); text.textContent = "Sending… 0.0 s"; }
  };
  document.addEventListener("click", (e) => {
    if (e.target.closest && e.target.closest("#send")) markSending();
  }, true);
  window.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && e.target.closest && e.target.closest("#url")) markSending();
  }, true);
  // "Sending… 1.2 s" counts up from when the send started (the page's, or the server's for a tab
  // that is still sending when it is shown again).
  // The pane's marks on the status line (present.pane_marks): the Diagnosis tab's count becomes a
  // CSS variable its label shows (style.css); a Table tab in front with no table in the answer
  // hands over to Pretty. No component property changes for either (they cost the server).
  let marked = null;
  setInterval(() => {
    const marks = document.querySelector("#status .pane-marks");
    const main = document.querySelector("#main");
    const key = marks ? [marks.dataset.count, marks.dataset.table, marks.dataset.truncated].join(":") : null;
    if (marks && main && key !== marked) {
      marked = key;
      const count = Number(marks.dataset.count) || 0;
      main.style.setProperty("--diagnosis-count", count ? `"\\u00a0(${count})"` : '""');  // a no-break space
      main.classList.toggle("has-table", marks.dataset.table === "1");
      main.classList.toggle("has-truncated", marks.dataset.truncated === "1");
      const table = document.querySelector('#bodytabs button[data-tab-id="table"][aria-selected="true"]');
      if (marks.dataset.table === "0" && table) document.querySelector('#bodytabs button[data-tab-id="pretty"]')?.click();
    }
    document.querySelectorAll("#main [data-started]").forEach((el) => {
      const started = Number(el.dataset.started);
      if (!started) return;
      const s = Math.max(0, Date.now() / 1000 - started);
      el.textContent = "Sending… " + s.toFixed(1) + " s";
    });
  }, 100);
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
  // A failed Connect marks the fields its findings blame (the card's data-field-marks, from the
  // engine's Finding.field): red border, aria-invalid, the reason under the field; cleared on success.
  const markFields = () => {
    const card = document.querySelector("#connection .conn");
    let marks = {};
    try { marks = JSON.parse((card && card.dataset.fieldMarks) || "{}"); } catch (err) { marks = {}; }
    document.querySelectorAll('.block[id^="field-"]').forEach((block) => {
      const name = block.id.slice(6), reason = marks[name], input = block.querySelector("input, textarea");
      let note = block.querySelector(":scope > .field-error");
      block.classList.toggle("field-invalid", Boolean(reason));
      if (reason) {
        if (!note) { note = document.createElement("div"); note.className = "field-error"; note.id = "field-" + name + "-error"; block.appendChild(note); }
        if (note.textContent !== reason) { note.textContent = reason; }
        if (input && input.getAttribute("aria-invalid") !== "true") { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", note.id); }
      } else {
        if (note) { note.remove(); }
        if (input && input.hasAttribute("aria-invalid")) { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
      }
    });
  };
  // Gradio's empty Code view is a div with an aria-label and no role (axe: aria-prohibited-attr).
  const labelEmpty = () => document.querySelectorAll("div.empty[aria-label]:not([role])").forEach((d) => d.setAttribute("role", "note"));
  let marking = false;
  new MutationObserver(() => {
    if (!marking) { marking = true; requestAnimationFrame(() => { marking = false; markFields(); labelEmpty(); }); }
  }).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-field-marks"] });
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
    const cell = e.target.closest && e.target.closest("#matrix-grid button.mx-cell");
    if (cell) {  // a matrix cell: hand its "row:column" to the matrix_open event
      const box = document.querySelector("#matrix-pick textarea, #matrix-pick input");
      if (box) {
        box.value = cell.dataset.cell + ":" + Date.now();
        box.dispatchEvent(new Event("input", { bubbles: true }));
        setTimeout(() => document.querySelector("#matrix-open").click(), 80);
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
