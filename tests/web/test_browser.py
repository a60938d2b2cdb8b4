"""The map pages in headless Chromium against a real server on 127.0.0.1.

Screenshots land in tests/artifacts/screenshots/ (git-ignored), one per
sample field; timings of the 100 ha sample go to tests/artifacts/map_timing.json.
"""

from __future__ import annotations

import json
import time
from io import BytesIO
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.web import server as srv

pytestmark = pytest.mark.browser

BACKGROUND = (0xE8, 0xEB, 0xE3)  # .map background in dosewise.css


def _open(driver: Any, server: srv.Server, path: str, *, key: str | None = None) -> None:
    driver.get(server.url + path)
    driver.find_element(By.ID, "api-key").send_keys(key or server.key)
    driver.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.body.dataset.state")
                                    in ("ready", "error"))
    assert driver.execute_script("return document.body.dataset.state") == "ready", \
        driver.find_element(By.ID, "status").text


def _map_pixels(driver: Any) -> np.ndarray:
    """The map element's pixels, legend and controls included."""
    png = driver.get_screenshot_as_png()
    img = np.asarray(Image.open(BytesIO(png)).convert("RGB"))
    r = driver.execute_script("const r = document.getElementById('map').getBoundingClientRect();"
                              "return [r.left, r.top, r.right, r.bottom].map(Math.round);")
    scale = img.shape[1] / driver.execute_script("return window.innerWidth")
    x0, y0, x1, y1 = (round(v * scale) for v in r)
    return img[y0:y1, x0:x1]


def _assert_drawn(pixels: np.ndarray) -> None:
    flat = pixels.reshape(-1, 3)
    not_background = np.any(np.abs(flat.astype(int) - BACKGROUND) > 8, axis=1).mean()
    colours = len(np.unique(flat[:: max(1, len(flat) // 200_000)], axis=0))
    assert not_background > 0.10, f"map looks blank: {not_background:.1%} of pixels differ from the background"
    assert colours > 20, f"map looks blank: {colours} distinct colours"


def _wait_for(driver: Any, script: str, timeout: float = 30) -> Any:
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(f"return {script}"))
    return driver.execute_script(f"return {script}")


def test_prescription_map_end_to_end(chrome: Any, live_server: srv.Server) -> None:
    rx, other = live_server.prescriptions["small"]
    _open(chrome, live_server, f"/v1/prescriptions/{rx}/map")
    assert chrome.execute_script("return sessionStorage.getItem('dosewise.apiKey')") == live_server.key
    assert chrome.execute_script("return localStorage.length") == 0

    # layers in the DOM: boundary, buffer, the stream, rate zones
    count = {c: len(chrome.find_elements(By.CSS_SELECTOR, f"path.{c}"))
             for c in ("dw-boundary", "dw-nospray", "dw-feature", "dw-zone")}
    assert count["dw-boundary"] == 1 and count["dw-nospray"] >= 1 and count["dw-feature"] == 1
    assert count["dw-zone"] >= 2
    assert chrome.find_elements(By.CSS_SELECTOR, ".leaflet-control-scale-line")

    # the legend shows the prescription's rates in the label's unit (threshold: 0 or the 2 L/ha maximum)
    rates = {f["properties"]["rate"] for f in json.loads(httpx.get(
        f"{live_server.url}/v1/prescriptions/{rx}/export/geojson", headers=live_server.headers).content)["features"]}
    legend = chrome.execute_script(
        "return [...document.querySelectorAll('#legend .legend-rates li')].map(li => Number(li.dataset.rate))")
    assert sorted(legend) == sorted(rates) == [0.0, 2.0]
    assert chrome.find_element(By.CSS_SELECTOR, "#legend .legend-unit").text == "Rate (L/ha)"
    assert "2 L/ha" in chrome.find_element(By.ID, "legend").text

    # weeds: switch a species on, an image overlay appears
    chrome.find_element(By.CSS_SELECTOR, "input[name=weeds][value=ALOMY]").click()
    src = _wait_for(chrome, "document.querySelector('img.dw-weeds') && document.querySelector('img.dw-weeds').src")
    assert src.startswith("blob:")
    assert "black-grass" in chrome.find_element(By.ID, "legend").text

    # summary and compliance
    assert "Treated area" in chrome.find_element(By.ID, "summary").text
    assert chrome.find_elements(By.CSS_SELECTOR, "#compliance .check")

    # download: fetched with the key, saved as a blob
    chrome.find_element(By.CSS_SELECTOR, "#downloads button[data-format=geojson]").click()
    got = _wait_for(chrome, "window.dwLastDownload")
    assert "error" not in got, got
    assert got["filename"].endswith(".geojson") and got["bytes"] > 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not list(chrome.download_dir.glob("*.geojson")):
        time.sleep(0.2)
    (saved,) = chrome.download_dir.glob("*.geojson")
    assert json.loads(saved.read_text())["type"] == "FeatureCollection"
    chrome.execute_script("window.dwLastDownload = null")
    chrome.find_element(By.CSS_SELECTOR, "#downloads button[data-format=isoxml]").click()
    got = _wait_for(chrome, "window.dwLastDownload")
    assert got["filename"].endswith(".zip") and got["bytes"] > 100

    # pre-flight check for a terminal
    chrome.execute_script("document.getElementById('terminal').value = 'raven';"
                          "document.getElementById('check-format').value = 'shapefile';"
                          "document.getElementById('check-btn').click()")
    verdict = _wait_for(chrome, "document.querySelector('#preflight .verdict') && "
                                "document.querySelector('#preflight .verdict').textContent")
    assert "Raven" in verdict

    # advice shows when the service gives it; the language switch reloads it
    if not chrome.find_element(By.ID, "advice-card").get_attribute("hidden"):
        chrome.find_element(By.CSS_SELECTOR, "#advice-lang button[data-lang=fr]").click()
        _wait_for(chrome, "document.querySelector('#advice-lang button[data-lang=fr]')"
                          ".getAttribute('aria-pressed') === 'true'")

    # comparison: a second map side by side and a totals table
    chrome.execute_script("document.getElementById('compare-card').open = true;"
                          f"const s = document.getElementById('compare-select'); s.value = '{other}';"
                          "s.dispatchEvent(new Event('change'));")
    _wait_for(chrome, "document.querySelectorAll('#compare-table tbody tr').length > 0")
    assert chrome.find_element(By.ID, "compare-map").is_displayed()
    assert len(chrome.find_elements(By.CSS_SELECTOR, "#compare-map path.dw-zone")) >= 1
    table = chrome.find_element(By.ID, "compare-table").text
    assert "Broadcast" in table and "Threshold" in table

    srv.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chrome.save_screenshot(str(srv.SCREENSHOTS / "small-test-field-compare.png"))
    _assert_drawn(_map_pixels(chrome))


def test_a_wrong_key_is_refused_and_not_kept(chrome: Any, live_server: srv.Server) -> None:
    chrome.get(f"{live_server.url}/v1/prescriptions/1/map")
    chrome.find_element(By.ID, "api-key").send_keys("dw_nope_nope")
    chrome.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
    err = _wait_for(chrome, "!document.getElementById('signin-error').hidden && "
                            "document.getElementById('signin-error').textContent")
    assert "not accepted" in err
    assert chrome.execute_script("return sessionStorage.getItem('dosewise.apiKey')") is None
    assert chrome.find_element(By.ID, "app").get_attribute("hidden") is not None


@pytest.mark.parametrize("sample", list(srv.SAMPLE_LABELS))
def test_sample_field_screenshot(chrome: Any, live_server: srv.Server, sample: str) -> None:
    (rx,) = live_server.prescriptions[sample]
    _open(chrome, live_server, f"/v1/prescriptions/{rx}/map")
    first_species = chrome.execute_script("return document.querySelectorAll('input[name=weeds]')[1].value")
    chrome.find_element(By.CSS_SELECTOR, f"input[name=weeds][value={first_species}]").click()
    _wait_for(chrome, "document.querySelector('img.dw-weeds') && document.querySelector('img.dw-weeds').complete")
    chrome.execute_script("document.querySelectorAll('.leaflet-tooltip').forEach(t => t.remove())")
    assert len(chrome.find_elements(By.CSS_SELECTOR, "path.dw-zone")) >= 2
    srv.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chrome.save_screenshot(str(srv.SCREENSHOTS / f"{sample}.png"))
    _assert_drawn(_map_pixels(chrome))


def test_phone_layout(chrome: Any, live_server: srv.Server) -> None:
    srv.emulate_phone(chrome, 360, 740)
    (rx,) = live_server.prescriptions["fr-ru-de-vaux"]
    _open(chrome, live_server, f"/v1/prescriptions/{rx}/map")
    assert chrome.execute_script("return document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    map_box = chrome.find_element(By.ID, "map").rect
    panel_box = chrome.find_element(By.ID, "panel").rect
    assert panel_box["y"] >= map_box["y"] + map_box["height"] - 1  # the panel sits below the map
    small = chrome.execute_script("""
        return [...document.querySelectorAll('button, select, summary, .toggle, .leaflet-bar a, #downloads .btn')]
          .filter(e => e.offsetParent !== null)
          .map(e => [e.tagName + '#' + e.id + '.' + e.className, e.getBoundingClientRect()])
          .filter(([, r]) => r.height < 44 || r.width < 44).map(([n, r]) => n + ' ' + r.width + 'x' + r.height);""")
    assert small == []
    srv.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chrome.save_screenshot(str(srv.SCREENSHOTS / "fr-ru-de-vaux-phone.png"))
    _assert_drawn(_map_pixels(chrome))


def test_index_lists_fields_and_prescriptions(chrome: Any, live_server: srv.Server) -> None:
    _open(chrome, live_server, "/v1/map")
    cards = chrome.find_elements(By.CSS_SELECTOR, ".field-card")
    assert len(cards) == 4
    links = {a.get_attribute("data-rx") for a in chrome.find_elements(By.CSS_SELECTOR, ".rx-list a")}
    assert links == {str(i) for ids in live_server.prescriptions.values() for i in ids}
    assert len(chrome.find_elements(By.CSS_SELECTOR, "#overview path.dw-boundary")) == 4
    chrome.find_element(By.CSS_SELECTOR, f".rx-list a[data-rx='{live_server.prescriptions['small'][0]}']").click()
    WebDriverWait(chrome, 30).until(lambda d: d.execute_script("return document.body.dataset.state") == "ready")
    assert "/map" in chrome.current_url  # the key carried over in this tab's sessionStorage


def test_timing_100_ha(chrome: Any, live_server: srv.Server, capsys: pytest.CaptureFixture[str]) -> None:
    """Page + data for the 100 ha sample at 1 m cells; reported, not asserted (machines differ)."""
    (rx,) = live_server.prescriptions["us-ia-story-county"]
    _open(chrome, live_server, f"/v1/prescriptions/{rx}/map")  # signs in and warms the server
    runs = []
    for _ in range(3):
        chrome.get(f"{live_server.url}/v1/prescriptions/{rx}/map")
        WebDriverWait(chrome, 30).until(lambda d: d.execute_script("return document.body.dataset.state") == "ready")
        runs.append(chrome.execute_script("return window.dwTiming"))
    report = {"prescription": rx, "cells": "1017 x 1039 at 1 m", "runs": runs,
              "best_ready_ms": min(r["ready_ms"] for r in runs)}
    out = srv.ROOT / "tests" / "artifacts" / "map_timing.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    with capsys.disabled():
        print(f"\n100 ha map: page + data ready in {report['best_ready_ms']} ms (runs: {runs})")
