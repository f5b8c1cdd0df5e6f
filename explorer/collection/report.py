"""A run's report: one console line per request, a summary, JUnit XML, JSON and Markdown.

Everything shown passes through the session's redactor on the way in (exchanges are recorded
redacted) and is kept to one line per value: response text is untrusted.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from typing import Any

from explorer.collection.runner import RequestResult, RunReport
from explorer.history import exchange_to_dict
from explorer.redact import Redactor

_PASS, _FAIL, _SKIP = "✓", "✗", "-"


def _one_line(text: str, limit: int = 300) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _url(url: str, redactor: Redactor) -> str:
    """A URL with credentials masked; a URL too broken to parse is scrubbed as text."""
    try:
        return redactor.scrub_url(url)
    except ValueError:
        return redactor.scrub(url)


def result_line(result: RequestResult) -> str:
    """`✓ items / Create an item  201  12.3 ms  3/3 passed  [CODE…]`."""
    mark = _SKIP if result.skipped else _PASS if result.passed else _FAIL
    status = str(result.status) if result.status is not None else "---"
    elapsed = f"{result.elapsed_ms:.1f} ms" if result.elapsed_ms is not None else "-"
    total, failed = len(result.outcomes), len(result.failed_outcomes)
    if result.skipped:
        checks = "not run"
    elif total == 0:
        checks = "no assertions"
    else:
        checks = f"{total - failed}/{total} passed" if not failed else f"{failed}/{total} failed"
    codes = [f.code for f in result.findings if f.severity != "info"]
    line = f"{mark} {result.full_name}  {result.method} {status}  {elapsed}  {checks}"
    return _one_line(line + (f"  [{' '.join(codes)}]" if codes else ""), 400)


def result_details(result: RequestResult) -> list[str]:
    """The lines under a failing request: failed assertions, the error, findings with fixes."""
    if result.passed or result.skipped:
        return []
    lines = [f"    {_FAIL} {_one_line(str(o))}" for o in result.failed_outcomes]
    if result.error:
        lines.append(f"    {_one_line(result.error)}")
    for finding in result.findings:
        lines.append(f"    {finding.code}: {_one_line(finding.message)}")
        lines.append(f"      fix: {_one_line(finding.fix)}")
    return lines


def summary_line(report: RunReport) -> str:
    c = report.counts()
    verdict = "PASSED" if report.passed else "FAILED"
    parts = [
        f"{c['passed']}/{c['requests']} requests passed",
        f"{c['assertions'] - c['assertions_failed']}/{c['assertions']} assertions held",
    ]
    if c["skipped"]:
        parts.append(f"{c['skipped']} not run")
    if report.load_errors:
        parts.append(f"{len(report.load_errors)} broken file(s)")
    return f"{verdict}: {', '.join(parts)} in {report.seconds:.2f} s"


# --- JSON -----------------------------------------------------------------------------------------


def result_dict(result: RequestResult, redactor: Redactor) -> dict[str, Any]:
    return {
        "name": result.name,
        "folder": list(result.folder),
        "method": result.method,
        "url": _url(result.url, redactor),
        "status": result.status,
        "elapsed_ms": round(result.elapsed_ms, 1) if result.elapsed_ms is not None else None,
        "passed": result.passed,
        "skipped": result.skipped,
        "assertions": [
            {k: redactor.scrub(v) if isinstance(v, str) else v for k, v in o.as_dict().items()}
            for o in result.outcomes
        ],
        "extracted": result.extracted,
        "findings": [{k: redactor.scrub(v) for k, v in f.as_dict().items()} for f in result.findings],
        "error": redactor.scrub(result.error) if result.error else None,
        "exchange": exchange_to_dict(result.exchange, redactor) if result.exchange else None,
    }


def report_dict(report: RunReport, redactor: Redactor) -> dict[str, Any]:
    return {
        "collection": report.collection,
        "environment": report.environment,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(report.started_at)),
        "seconds": round(report.seconds, 3),
        "passed": report.passed,
        "counts": report.counts(),
        "load_errors": [str(e) for e in report.load_errors],
        "results": [result_dict(r, redactor) for r in report.results],
    }


def to_json(report: RunReport, redactor: Redactor) -> str:
    return json.dumps(report_dict(report, redactor), indent=2, ensure_ascii=False)


# --- JUnit XML ------------------------------------------------------------------------------------


def to_junit(report: RunReport, redactor: Redactor) -> str:
    """JUnit XML: one testcase per request; failed assertions in <failure>, findings and fixes in
    <system-out>; a request that got no response is an <error>; --bail leftovers are <skipped>."""
    c = report.counts()
    errors = sum(1 for r in report.results if not r.skipped and r.status is None)
    suites = ET.Element(
        "testsuites",
        name=report.collection,
        tests=str(c["requests"] + len(report.load_errors)),
        time=f"{report.seconds:.3f}",
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=report.collection + (f" [{report.environment}]" if report.environment else ""),
        tests=str(c["requests"] + len(report.load_errors)),
        failures=str(c["failed"] - errors),
        errors=str(errors + len(report.load_errors)),
        skipped=str(c["skipped"]),
        time=f"{report.seconds:.3f}",
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(report.started_at)),
    )
    for load_error in report.load_errors:
        case = ET.SubElement(suite, "testcase", name=load_error.path, classname="files", time="0")
        ET.SubElement(case, "error", message=_xml(str(load_error)), type="LoadError").text = _xml(
            str(load_error)
        )
    for result in report.results:
        seconds = (result.elapsed_ms or 0.0) / 1000
        case = ET.SubElement(
            suite,
            "testcase",
            name=_xml(result.name),
            classname=_xml(".".join(result.folder) or report.collection),
            time=f"{seconds:.3f}",
        )
        if result.skipped:
            ET.SubElement(case, "skipped", message="not run (--bail)")
            continue
        if result.status is None:
            message = _xml(redactor.scrub(result.error or "no response"))
            ET.SubElement(case, "error", message=message, type="NoResponse").text = message
        elif result.failed_outcomes:
            text = "\n".join(_xml(redactor.scrub(str(o))) for o in result.failed_outcomes)
            ET.SubElement(
                case,
                "failure",
                message=_xml(redactor.scrub(str(result.failed_outcomes[0]))),
                type="AssertionFailed",
            ).text = text
        out = [
            f"{result.method} {_url(result.url, redactor)} -> {result.status if result.status is not None else 'no response'}"
        ]
        out += [f"{'✓' if o.passed else '✗'} {o}" for o in result.outcomes]
        for finding in result.findings:
            out.append(f"{finding.code} ({finding.severity}): {finding.message}")
            out.append(f"  fix: {finding.fix}")
        ET.SubElement(case, "system-out").text = _xml(redactor.scrub("\n".join(out)))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _xml(text: str) -> str:
    """XML 1.0 cannot carry most control characters: a response's text is shown escaped."""
    return "".join(
        ch
        if ch in "\t\n\r"
        or (ord(ch) >= 0x20 and ord(ch) not in (0xFFFE, 0xFFFF) and not 0xD800 <= ord(ch) <= 0xDFFF)
        else f"\\x{ord(ch):02x}"
        for ch in str(text)
    )


# --- Markdown -------------------------------------------------------------------------------------


def to_markdown(report: RunReport, redactor: Redactor) -> str:
    def cell(text: object) -> str:
        return _one_line(redactor.scrub(str(text)), 200).replace("|", "\\|")

    env = f" (environment `{report.environment}`)" if report.environment else ""
    lines = [f"# Run of {cell(report.collection)}{env}", "", f"**{summary_line(report)}**", ""]
    if report.load_errors:
        lines += ["## Broken files", ""] + [f"- {cell(e)}" for e in report.load_errors] + [""]
    lines += ["| | request | status | time | assertions | findings |", "|---|---|---|---|---|---|"]
    for r in report.results:
        mark = _SKIP if r.skipped else _PASS if r.passed else _FAIL
        status = f"{r.method} {r.status if r.status is not None else '—'}"
        elapsed = f"{r.elapsed_ms:.1f} ms" if r.elapsed_ms is not None else "—"
        held = f"{len(r.outcomes) - len(r.failed_outcomes)}/{len(r.outcomes)}"
        codes = " ".join(f.code for f in r.findings if f.severity != "info") or ""
        lines.append(f"| {mark} | {cell(r.full_name)} | {status} | {elapsed} | {held} | {cell(codes)} |")
    failures = [r for r in report.results if not r.passed and not r.skipped]
    if failures:
        lines += ["", "## Failures", ""]
        for r in failures:
            lines.append(f"### {cell(r.full_name)}")
            lines.append("")
            lines += [f"- ✗ {cell(o)}" for o in r.failed_outcomes]
            if r.error:
                lines.append(f"- {cell(r.error)}")
            for f in r.findings:
                lines.append(f"- **{f.code}**: {cell(f.message)}  \n  fix: {cell(f.fix)}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
