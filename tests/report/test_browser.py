"""Open report.html in headless Chromium: every image loads, no console errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sim.report import build_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _driver(profile: Path):  # type: ignore[no-untyped-def]
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", "--window-size=1280,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.mark.browser
@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium "
    "chromium-driver)",
)
def test_report_renders_in_chromium(run_dir: Path, tmp_path: Path) -> None:
    page = build_report(run_dir)
    driver = _driver(tmp_path / "chrome-profile")
    try:
        driver.get(page.as_uri())
        images = driver.find_elements("tag name", "img")
        widths = [driver.execute_script("return arguments[0].naturalWidth", i) for i in images]
        complete = [driver.execute_script("return arguments[0].complete", i) for i in images]
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, min(int(height) + 40, 16000))
        shot = tmp_path / "report.png"
        driver.save_screenshot(str(shot))
        logs = driver.get_log("browser")
    finally:
        driver.quit()
    assert len(images) >= 12
    assert all(complete) and all(w > 0 for w in widths), widths
    assert [entry for entry in logs if entry["level"] == "SEVERE"] == []
    assert shot.stat().st_size > 10_000
    if SCREENSHOTS.is_dir():
        shutil.copy(shot, SCREENSHOTS / "report_small.png")
