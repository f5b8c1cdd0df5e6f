"""Domain objects -> what the panes show (HTML snippets, tables, text). Pure functions, no Gradio.

Every value that came from outside (server bodies, headers, claims, messages) is HTML-escaped here;
tokens appear only masked (TokenInfo.masked), and bodies pass through the session's redactor.
"""

from explorer.textview import human_size
from explorer.ui.present.basics import (
    as_json,
    chips,
    code_html,
    countdown_html,
    countdown_text,
    findings_html,
    human_ms,
    rich_text,
    sorted_findings,
    status_class,
    utc_time,
)
from explorer.ui.present.connection import authorize_html, connection_html, connection_summary, waiting_html
from explorer.ui.present.discovery import (
    app_html,
    app_label,
    apps_notice,
    apps_summary,
    endpoint_for_row,
    endpoints_frame,
    endpoints_summary,
    filter_endpoints,
    history_frame,
    history_table,
    listing_html,
)
from explorer.ui.present.response import (
    RAW_LIMIT,
    TABLE_MAX_ROWS,
    ExchangeView,
    body_table,
    exchange_summary,
    exchange_view,
    headers_frame,
    not_sent_view,
    pretty_body,
    raw_body,
    scrub_json,
    status_html,
)
from explorer.ui.present.token import scopes_html, token_html, token_summary

__all__ = [
    "RAW_LIMIT",
    "TABLE_MAX_ROWS",
    "ExchangeView",
    "app_html",
    "app_label",
    "apps_notice",
    "apps_summary",
    "as_json",
    "authorize_html",
    "body_table",
    "chips",
    "code_html",
    "connection_html",
    "connection_summary",
    "countdown_html",
    "countdown_text",
    "endpoint_for_row",
    "endpoints_frame",
    "endpoints_summary",
    "exchange_summary",
    "exchange_view",
    "filter_endpoints",
    "findings_html",
    "headers_frame",
    "history_frame",
    "history_table",
    "human_ms",
    "human_size",
    "listing_html",
    "not_sent_view",
    "pretty_body",
    "raw_body",
    "rich_text",
    "scopes_html",
    "scrub_json",
    "sorted_findings",
    "status_class",
    "status_html",
    "token_html",
    "token_summary",
    "utc_time",
    "waiting_html",
]
