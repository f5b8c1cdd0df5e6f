"""The Matrix view in Debian's Chromium, against `python -m explorer --demo` as the README runs it:
the demo's identities (demo-sp, Alice, Bob, no token) × the access-audit collection fill in as a
grid with the sandbox's permissions, a cell opens its exchange in a request tab, two cells
compare, and the grid exports as Markdown (no token in it). Screenshots land in test-artifacts/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from support.browser import ARTIFACTS
from support.demo_page import WAIT_MS, browser_context, demo_url, shot  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")
AUDIT = Path(__file__).resolve().parents[1] / "examples" / "access-audit"
SLOW = """name: slow whoami
description: The sample app answers after a delay (the grid shows this row pending meanwhile).
method: GET
url: '{{hello_url}}/api/slow?ms=6000'
expect:
  demo-sp: 2xx
  alice: 2xx
  bob: 403
  none: 302
"""
# Some cells done while others are still pending: the grid fills in as cells finish.
HALF_FILLED = """() => {
  const grid = document.querySelector('#matrix-grid');
  return !!grid && grid.querySelectorAll('button.mx-pending').length > 0
    && grid.querySelectorAll('button.mx-cell:not(.mx-pending)').length > 0;
}"""


def serious_violations(page: object) -> list[str]:
    """axe-core's serious or critical WCAG 2 A/AA violations inside the Matrix view."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        context={"include": [["#matrix-view"]]},
        options={"runOnly": ["wcag2a", "wcag2aa"], "resultTypes": ["violations"]},
    )
    return [
        f"{v['id']}: {n.get('target')} {n.get('failureSummary', '')[:300]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
        for n in v["nodes"][:6]
    ]


def run_demo_matrix(page: object) -> object:
    """Open the view (its choices load), check the demo's identities are preselected, Run; the grid."""
    from playwright.sync_api import expect

    expect(page.locator("#connection .conn.ok")).to_be_visible(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.get_by_text("Identity matrix: who may call what").click()  # type: ignore[attr-defined]
    identities = page.locator("#matrix-identities")  # type: ignore[attr-defined]
    for name in ("demo-sp", "alice", "bob", "none (no token)"):
        expect(identities.get_by_label(name, exact=True)).to_be_checked(timeout=WAIT_MS)
    expect(identities.get_by_role("checkbox", name=re.compile(r"^this connection"))).not_to_be_checked()
    page.locator("#matrix-run").click()  # type: ignore[attr-defined]
    grid = page.locator("#matrix-grid")  # type: ignore[attr-defined]
    expect(grid.locator("button.mx-cell")).to_have_count(8, timeout=WAIT_MS)  # 2 requests × 4 identities
    expect(page.locator("#matrix-summary")).to_contain_text("PASSED: 8 cells", timeout=WAIT_MS)  # type: ignore[attr-defined]
    return grid


def test_demo_identities_times_the_demo_collection(demo_url: str, browser_context: object) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = browser_context.new_page()  # type: ignore[attr-defined]
    page.goto(demo_url + "?__theme=light")
    grid = run_demo_matrix(page)
    assert grid.locator("button.mx-pending").count() == 0
    # The sandbox's permissions, cell by cell: columns alice, bob, demo-sp, none
    hello = grid.locator("tbody tr").nth(0)
    expect(hello.locator("button").nth(0)).to_contain_text("200 pass")
    expect(hello.locator("button").nth(1)).to_contain_text("403 refused as expected")
    expect(hello.locator("button").nth(1)).to_contain_text("NO_CAN_USE")
    expect(hello.locator("button").nth(2)).to_contain_text("200 pass")
    expect(hello.locator("button").nth(3)).to_contain_text("302 refused as expected")
    expect(hello.locator("button").nth(0)).to_contain_text("app saw: alice@example.com")
    scoped = grid.locator("tbody tr").nth(1)
    expect(scoped.locator("button").nth(2)).to_contain_text("SCOPE_MISSING")
    expect(grid.locator("button.mx-surprise, button.mx-failed, button.mx-error")).to_have_count(0)
    shot(page, "matrix-1-grid")
    grid.screenshot(path=str(ARTIFACTS / "ui-matrix-grid.png"))  # the grid alone (docs/matrix-grid.png)

    # A click on Bob's cell opens that exchange in a request tab: 403, NO_CAN_USE in the banner.
    hello.locator("button").nth(1).click()
    expect(page.locator("#status .badge")).to_have_text("403", timeout=WAIT_MS)
    expect(page.locator("#banner")).to_contain_text("NO_CAN_USE")
    expect(page.locator("#tabbar, #tabstrip").first).to_contain_text("hello whoami × bob")
    # The tab sends as the cell's identity: Send repeats the cell (as Bob, from the matrix's collection).
    expect(page.locator("#send-as input")).to_have_value("bob", timeout=WAIT_MS)
    page.locator("#send").click()
    expect(page.locator("#status .sent-as")).to_have_text("as bob", timeout=WAIT_MS)
    expect(page.locator("#status .badge")).to_have_text("403")

    # Compare Alice's answer with Bob's: the status and the bodies differ.
    page.locator("#matrix-left input").click()
    page.locator("#matrix-left").get_by_role("option", name="hello whoami × alice", exact=True).click()
    page.locator("#matrix-right input").click()
    page.locator("#matrix-right").get_by_role("option", name="hello whoami × bob", exact=True).click()
    page.locator("#matrix-compare").click()
    comparison = page.locator("#matrix-comparison")
    expect(comparison).to_contain_text("status", timeout=WAIT_MS)
    expect(comparison).to_contain_text("$.email")
    expect(comparison).to_contain_text("access_denied")
    expect(comparison.locator("tbody tr").first).to_contain_text("200")
    expect(grid.locator(".mx-selected")).to_have_count(2)
    comparison.scroll_into_view_if_needed()
    shot(page, "matrix-2-compare")
    assert not serious_violations(page), serious_violations(page)

    # Export: the Markdown grid for a PR, without a token.
    link = page.locator('#matrix-exports a[download$="identity-matrix.md"]')
    with page.expect_download(timeout=WAIT_MS) as download:
        link.click()
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert "| hello whoami | ✓ 200 | ✓ 403 NO_CAN_USE | ✓ 200 | ✓ 302 TOKEN_MISSING |" in markdown
    expect(page.locator('#matrix-exports a[download$="identity-matrix.svg"]')).to_have_count(1)
    expect(page.locator('#matrix-exports a[download$="identity-matrix.csv"]')).to_have_count(1)
    page_text = page.locator("body").inner_text()
    assert not JWT.search(markdown) and not JWT.search(page_text)


def test_the_matrix_view_meets_wcag_aa_in_the_dark_theme(demo_url: str, browser_context: object) -> None:  # noqa: F811
    page = browser_context.new_page()  # type: ignore[attr-defined]
    page.emulate_media(color_scheme="dark")
    page.goto(demo_url + "?__theme=dark")
    run_demo_matrix(page)
    problems = serious_violations(page)
    shot(page, "matrix-3-dark")
    page.close()
    assert not problems, problems


def slow_audit(folder: Path) -> Path:
    """The access audit with a third request the app answers only after a delay (the gateway
    refuses Bob and no token at once: their cells finish while the others wait)."""
    copy = folder / "access-audit"
    shutil.copytree(AUDIT, copy)
    (copy / "03-slow.posting.yaml").write_text(SLOW, encoding="utf-8")
    collection = (copy / "collection.yaml").read_text(encoding="utf-8")
    (copy / "collection.yaml").write_text(collection + "- 03-slow.posting.yaml\n", encoding="utf-8")
    return copy


def test_the_grid_fills_in_live_and_a_tab_sends_as_bob(
    demo_url: str,  # noqa: F811
    browser_context: object,  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    audit = slow_audit(tmp_path)
    page = browser_context.new_page()  # type: ignore[attr-defined]
    page.goto(demo_url + "?__theme=light")
    expect(page.locator("#connection .conn.ok")).to_be_visible(timeout=WAIT_MS)
    page.get_by_text("Identity matrix: who may call what").click()
    page.locator("#matrix-location input, #matrix-location textarea").first.fill(str(audit))
    page.locator("#matrix-load").click()
    expect(page.locator("#matrix-summary")).to_contain_text("3 request(s)", timeout=WAIT_MS)
    identities = page.locator("#matrix-identities")
    for name in ("demo-sp", "alice", "bob", "none (no token)"):
        expect(identities.get_by_label(name, exact=True)).to_be_checked(timeout=WAIT_MS)
    page.locator("#matrix-run").click()
    # Live: a state where some cells are done and others (the slow row's) still pending.
    page.wait_for_function(HALF_FILLED, timeout=WAIT_MS)
    expect(page.locator("#matrix-summary")).to_contain_text("Running:")
    shot(page, "matrix-4-filling-in")
    grid = page.locator("#matrix-grid")
    expect(page.locator("#matrix-summary")).to_contain_text("PASSED: 12 cells", timeout=WAIT_MS)
    assert grid.locator("button.mx-pending").count() == 0

    # The workbench: the same collection open in Collections, its identities in the tab's "Send as".
    page.get_by_role("tab", name="Collections").click()
    page.locator("#coll-location input, #coll-location textarea").first.fill(str(audit))
    page.locator("#coll-open").click()
    expect(page.locator("#coll-title")).to_contain_text("Access audit", timeout=WAIT_MS)
    page.locator("#send-as input").click()
    page.get_by_role("option", name="bob", exact=True).click(timeout=WAIT_MS)
    expect(page.locator("#send-as input")).to_have_value("bob")
    page.locator("#send").click()  # the demo's first tab: hello's /api/hello, now as Bob
    expect(page.locator("#status .sent-as")).to_have_text("as bob", timeout=WAIT_MS)
    expect(page.locator("#status .badge")).to_have_text("403")
    expect(page.locator("#banner")).to_contain_text("NO_CAN_USE")
    page.get_by_role("tab", name="History").click()
    expect(page.locator("#history-table")).to_contain_text("as bob", timeout=WAIT_MS)
    shot(page, "matrix-5-send-as-bob")
    assert not JWT.search(page.locator("body").inner_text())
    page.close()
