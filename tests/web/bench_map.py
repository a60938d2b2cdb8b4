"""Bench: how long the map of the 100 ha sample (1 m cells) takes on 127.0.0.1.

Run: ``.venv/bin/python -m tests.web.bench_map``. Starts a real server on a
temp SQLite database, loads the Story County sample through the HTTP API,
then times the page shell, /layers and one weed PNG over HTTP (best of 5),
and the whole page in headless Chromium when it is installed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx

from tests.web import server as srv


def _best_ms(fn: object, n: int = 5) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - t) * 1000)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = srv.start(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", Path(tmp))
        try:
            (rx,) = srv.load_sample(server, "us-ia-story-county")
            h = {**server.headers, "Accept-Encoding": "gzip"}
            with httpx.Client(base_url=server.url, headers=h, timeout=60) as c:
                layers = c.get(f"/v1/prescriptions/{rx}/layers")
                species = layers.json()["weeds"][0]["image_url"]
                rows = {
                    "page shell": _best_ms(lambda: c.get(f"/v1/prescriptions/{rx}/map")),
                    "/layers": _best_ms(lambda: c.get(f"/v1/prescriptions/{rx}/layers")),
                    "weed PNG": _best_ms(lambda: c.get(species)),
                }
            print(f"100 ha sample, Rx {rx}, /layers {len(layers.content) / 1e6:.2f} MB JSON "
                  f"({layers.num_bytes_downloaded / 1e6:.2f} MB gzipped)")
            for k, v in rows.items():
                print(f"  {k:<12} {v:7.1f} ms")
            if srv.chromium_paths() is None:
                print("  browser: skipped (no chromium)")
                return
            from selenium.webdriver.common.by import By
            from selenium.webdriver.support.ui import WebDriverWait

            driver = srv.browser(Path(tmp) / "profile")
            try:
                driver.get(f"{server.url}/v1/prescriptions/{rx}/map")
                driver.find_element(By.ID, "api-key").send_keys(server.key)
                driver.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
                runs = []
                for _ in range(5):
                    WebDriverWait(driver, 30).until(
                        lambda d: d.execute_script("return document.body.dataset.state") == "ready")
                    runs.append(driver.execute_script("return window.dwTiming"))
                    driver.get(f"{server.url}/v1/prescriptions/{rx}/map")
                best = min(runs[1:], key=lambda r: r["ready_ms"])
                print(f"  browser: page + data ready in {best['ready_ms']} ms from navigation "
                      f"(layers fetch {best['layers_ms']} ms, drawing {best['render_ms']} ms; best of 4 warm loads)")
            finally:
                driver.quit()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
