"""Render the report in headless Chromium: images load, tables exist, no console errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ipt_bench.report.html import build_report
from ipt_bench.report.synthetic import synthetic_rows, write_results_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"
# Injected into a test copy only: the report itself carries no JavaScript.
CHECK_SCRIPT = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message)));
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  const result = {
    images: images.length,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
    tables: document.querySelectorAll('table').length,
    errors: window.__errors,
  };
  const out = document.createElement('pre');
  out.id = 'ipt-check';
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    reason = "chromium not installed (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
    ]  # fmt: skip
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path):
    browser = _chromium()
    rows = synthetic_rows({"ipt-small": 0.3, "<script>alert(1)</script>": 0.0}, seeds=(0, 1), n_images=3)
    index = build_report(write_results_dir(tmp_path / "results", rows), tmp_path / "out")
    probe = index.with_name("index.check.html")
    probe.write_text(index.read_text().replace("</body>", CHECK_SCRIPT + "</body>"))

    dump = _run(browser, tmp_path / "profile-dom", "--dump-dom", probe.as_uri())
    match = re.search(r'<pre id="ipt-check">(.*?)</pre>', dump.stdout, re.S)
    assert match, f"check script did not run; stderr: {dump.stderr[-2000:]}"
    result = json.loads(match.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    assert result["images"] >= 3 and result["broken"] == []
    assert result["tables"] >= 6
    assert result["errors"] == []
    console = [line for line in dump.stderr.splitlines() if "Uncaught" in line or "ERROR:CONSOLE" in line]
    assert console == [], console
    assert "alert(1)" not in "".join(
        re.findall(r"<script>.*?</script>", dump.stdout.replace(CHECK_SCRIPT, ""), re.S)
    )

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report_screenshot.png"
    _run(
        browser, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1280,2400", index.as_uri()
    )
    assert shot.is_file() and shot.stat().st_size > 10_000
