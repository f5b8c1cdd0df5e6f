"""WCAG AA in both themes, measured by axe-core inside Chromium (axe-playwright-python bundles it).

The page is driven into the states a demo shows (a 200 with pretty JSON, a failure with its banner
and Diagnosis, the Token pane, the collection tree and a run) and axe checks each; no serious or
critical violation may remain. The report of each check is saved in test-artifacts/.
"""

from __future__ import annotations

import json
import re

import pytest
from support.browser import ARTIFACTS
from support.demo_page import WAIT_MS, browser_context, demo_url, shot  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SERIOUS = ("serious", "critical")


def _violations(page: object, name: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": ["wcag2a", "wcag2aa"], "resultTypes": ["violations"]})
    found = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(found, indent=1), encoding="utf-8")
    return [
        f"{v['id']} ({v['impact']}): {n.get('target')} {n.get('failureSummary', '')[50:200]}"
        for v in found
        for n in v["nodes"][:6]
    ]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_violation_in_either_theme(demo_url: str, browser_context: object, theme: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = browser_context.new_page()  # type: ignore[attr-defined]
    page.emulate_media(color_scheme=theme)
    page.goto(f"{demo_url}?__theme={theme}")
    expect(page.locator("#endpoints")).to_contain_text("/api/hello", timeout=WAIT_MS)
    problems = []
    page.locator("#send").click()
    expect(page.locator("#status .badge")).to_have_text("200", timeout=WAIT_MS)
    problems += _violations(page, f"{theme}-200")
    page.locator("#url input, #url textarea").first.fill("/api/status/422")
    page.locator("#send").click()
    expect(page.locator("#status .badge")).to_have_text("422", timeout=WAIT_MS)
    problems += _violations(page, f"{theme}-422")
    page.get_by_role("tab", name=re.compile(r"^Diagnosis")).click()
    problems += _violations(page, f"{theme}-diagnosis")
    page.get_by_role("tab", name="Token").click()
    problems += _violations(page, f"{theme}-token")
    page.get_by_role("tab", name="Collections").click()
    page.locator("#coll-open").click()
    expect(page.locator("#coll-tree")).to_contain_text("Greeting", timeout=WAIT_MS)
    page.locator("#coll-run").click()
    expect(page.locator("#run-summary")).to_contain_text("Done", timeout=60_000)
    problems += _violations(page, f"{theme}-collection")
    shot(page, f"contrast-{theme}")
    # Delete… asks first (only asked here: Keep it), a collapsed endpoint group, a marked field.
    page.locator("#coll-tree").get_by_role("gridcell", name="Greeting").first.click()
    page.locator("#coll-delete").click()
    expect(page.locator("#delete-question")).to_contain_text("Delete the request", timeout=WAIT_MS)
    problems += _violations(page, f"{theme}-delete-question")
    shot(page, f"contrast-{theme}-delete-question")
    page.locator("#delete-no").click()
    page.get_by_role("tab", name="Endpoints").click()
    page.locator("#endpoints .virtual-row .ep-group").first.click()
    expect(page.locator("#endpoints .virtual-row .ep-group").first).to_contain_text(
        "(collapsed)", timeout=WAIT_MS
    )
    page.get_by_text("Credentials", exact=True).click()
    page.locator("#field-client_secret input").fill("not-the-secret")
    page.locator("#connect").click()
    expect(page.locator("#field-client_secret .field-error")).to_be_visible(timeout=WAIT_MS)
    problems += _violations(page, f"{theme}-marked-field")
    shot(page, f"contrast-{theme}-marked-field")
    page.close()
    assert not problems, "\n".join(dict.fromkeys(problems))
