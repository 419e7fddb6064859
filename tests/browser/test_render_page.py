"""tests/browser/render_page.mjs, the headless-Chromium check that other tests use on the run
report's HTML, checked on small pages written here: it reports a console error, an uncaught
exception and a request that would leave the machine, and on a clean page reports nothing wrong,
the page's text and title, the [data-rto-seconds] cells by row, and writes a real screenshot.

Skipped when /usr/bin/chromium is missing (install it with `bash scripts/setup.sh --with-browser`),
unless DR_REQUIRE_BROWSER=1, which makes a missing browser a failure (scripts/test.sh)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tests" / "browser" / "render_page.mjs"
CHROMIUM = Path("/usr/bin/chromium")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", autouse=True)
def browser_available():
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (bash scripts/setup.sh --with-browser)")
    if shutil.which("node") is None:
        missing.append("node")
    if not (ROOT / "node_modules" / "playwright-core").is_dir():
        missing.append("node_modules/playwright-core (npm ci)")
    if missing:
        message = "the browser checks need " + ", ".join(missing)
        if os.environ.get("DR_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " (DR_REQUIRE_BROWSER=1)")
        pytest.skip(message)


def render(tmp_path, html):
    page = tmp_path / "page.html"
    page.write_text(html, encoding="utf-8")
    png = tmp_path / "shots" / "page.png"
    done = subprocess.run(["node", str(TOOL), str(page), str(png)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), png


CLEAN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Run report: nightly drill</title>
<style>body { font-family: sans-serif; } td { padding: 4px; }</style></head>
<body><h1>Nightly drill SUCCEEDED</h1>
<p>Every server launched; the drill terminated its recovery instances.</p>
<table>
  <tr id="server-s-0a1b2c3d4e5f6000a"><td>web-1</td><td data-rto-seconds="312">5 min 12 s</td></tr>
  <tr id="server-s-0a1b2c3d4e5f6000b"><td>db-1</td><td data-rto-seconds="1800">30 min</td></tr>
</table>
<script>document.querySelector("p").dataset.checked = "yes";</script>
</body></html>
"""


def test_a_clean_page_reports_nothing_wrong_and_what_a_reader_sees(tmp_path):
    seen, png = render(tmp_path, CLEAN)
    assert seen["consoleErrors"] == [] and seen["pageErrors"] == [] and seen["failedRequests"] == []
    assert seen["title"] == "Run report: nightly drill"
    assert "Nightly drill SUCCEEDED" in seen["text"] and "web-1" in seen["text"]
    assert seen["rto"] == [{"id": "server-s-0a1b2c3d4e5f6000a", "seconds": "312"},
                           {"id": "server-s-0a1b2c3d4e5f6000b", "seconds": "1800"}]
    shot = png.read_bytes()
    assert shot.startswith(PNG_SIGNATURE) and len(shot) > 1024


def test_a_console_error_in_an_inline_script_is_reported(tmp_path):
    seen, _ = render(tmp_path, """<!doctype html><html><head><title>broken</title></head><body>
<p>report</p><script>console.error("the measurements did not load");</script></body></html>""")
    assert "the measurements did not load" in seen["consoleErrors"]
    assert seen["pageErrors"] == []


def test_an_uncaught_exception_is_a_page_error(tmp_path):
    seen, _ = render(tmp_path, """<!doctype html><html><head><title>t</title></head><body>
<script>const report = undefined; report.waves.length;</script></body></html>""")
    assert len(seen["pageErrors"]) == 1 and "waves" in seen["pageErrors"][0]


def test_nothing_but_local_files_is_requested_and_what_was_blocked_is_reported(tmp_path):
    seen, png = render(tmp_path, """<!doctype html><html><head><title>t</title>
<link rel="stylesheet" href="https://cdn.example.com/report.css">
<script src="http://127.0.0.1:9/tracker.js"></script></head><body><p>offline</p></body></html>""")
    blocked = {r["url"] for r in seen["failedRequests"] if r["blocked"]}
    assert blocked == {"https://cdn.example.com/report.css", "http://127.0.0.1:9/tracker.js"}
    assert "offline" in seen["text"] and png.read_bytes().startswith(PNG_SIGNATURE)


def test_a_missing_page_fails_with_a_clear_message(tmp_path):
    done = subprocess.run(["node", str(TOOL), str(tmp_path / "absent.html"), str(tmp_path / "absent.png")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 3 and "cannot render" in done.stderr and done.stdout == ""
