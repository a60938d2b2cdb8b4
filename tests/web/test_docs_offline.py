"""/docs (Swagger UI) and /redoc in headless Chromium with no internet: the operations are there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web import server as srv

pytestmark = pytest.mark.browser


@pytest.fixture
def offline_chrome(tmp_path: Path) -> Iterator[Any]:
    if srv.chromium_paths() is None:
        pytest.skip("headless Chromium not found (/usr/bin/chromium and /usr/bin/chromedriver); "
                    "install the Debian packages chromium and chromium-driver")
    driver = srv.browser(tmp_path / "profile", offline=True)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, script: str, timeout_s: float = 30.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout_s, poll_frequency=0.2).until(lambda d: d.execute_script(script))


def _loaded_from_elsewhere(driver: Any, base: str) -> list[dict[str, Any]]:
    """Resources the page fetched from anywhere but ``base`` (a CSP-blocked one has status 0, no bytes)."""
    entries = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => ({name: e.name, status: e.responseStatus, "
        "bytes: e.transferSize + e.encodedBodySize}))")
    return [e for e in entries if not e["name"].startswith(base) and (e["status"] or e["bytes"])]


def test_the_browser_really_is_offline(offline_chrome: Any, live_server: srv.Server) -> None:
    """The check below means something only if a CDN would fail here."""
    offline_chrome.get(f"{live_server.url}/health")
    ok = offline_chrome.execute_async_script(
        "const done = arguments[0]; fetch('https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css')"
        ".then(() => done('loaded'), () => done('failed'))")
    assert ok == "failed"


def test_swagger_ui_lists_the_operations_offline(offline_chrome: Any, live_server: srv.Server) -> None:
    offline_chrome.get(f"{live_server.url}/docs")
    n = _wait(offline_chrome, "const n = document.querySelectorAll('.opblock').length; return n >= 30 && n")
    summaries = offline_chrome.execute_script(
        "return [...document.querySelectorAll('.opblock-summary-description')].map(e => e.textContent)")
    assert n >= 30 and "Make a prescription" in summaries and "Create a field" in summaries
    assert offline_chrome.execute_script("return !!document.querySelector('.btn.authorize')")  # the key scheme
    assert _loaded_from_elsewhere(offline_chrome, live_server.url) == []


def test_redoc_lists_the_operations_offline(offline_chrome: Any, live_server: srv.Server) -> None:
    offline_chrome.get(f"{live_server.url}/redoc")
    _wait(offline_chrome, "return document.body.innerText.includes('Make a prescription')", 60)
    text = offline_chrome.execute_script("return document.body.innerText")
    assert "Create a field" in text and "Download a terminal or GIS file" in text
    assert _loaded_from_elsewhere(offline_chrome, live_server.url) == []
