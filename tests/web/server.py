"""A real Dosewise server for the browser tests and the bench: uvicorn in a subprocess.

Data goes in through the HTTP API (fields, weed maps, products,
prescriptions); only the organisation and its key are made directly in the
database, as ``dosewise keys create`` would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.models import repo
from app.models.db import make_engine, session_factory
from app.models.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "sample_fields"
LABELS = ROOT / "data" / "labels"
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"

# Sample field → label that fits its crop (see each field's README).
SAMPLE_LABELS = {
    "fr-ru-de-vaux": "callisto-fr.json",
    "uk-blackgrass-wheat": "atlantis-od-gb.json",
    "us-ia-story-county": "enlist-one.json",
}

# Until app/main.py includes the web router, the server adds it itself.
_SERVE = """
import sys, uvicorn
from app.main import create_app
from app.web.routes import router
app = create_app()
if not any(getattr(r, "path", None) == "/v1/map" for r in app.routes):
    app.include_router(router)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    key: str
    proc: subprocess.Popen[bytes]
    prescriptions: dict[str, list[int]] = field(default_factory=dict)  # sample name → prescription ids

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def post(self, path: str, body: Any) -> dict[str, Any]:
        r = httpx.post(f"{self.url}{path}", json=body, headers=self.headers, timeout=120)
        if r.status_code != 201:
            raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:500]}")
        return dict(r.json())

    def get(self, path: str) -> Any:
        r = httpx.get(f"{self.url}{path}", headers=self.headers, timeout=60)
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start(db_url: str, data_dir: Path, *, role: str = "agronomist") -> Server:
    """Migrate ``db_url``, make an organisation and key, start uvicorn and wait for /health."""
    upgrade(db_url)
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        org = repo.get_or_create_org(s, "webtest")
        _row, key = repo.create_api_key(s, org, role)
        s.commit()
    engine.dispose()
    port = free_port()
    env = {**os.environ, "DOSEWISE_DATABASE_URL": db_url, "DOSEWISE_DATA_DIR": str(data_dir),
           "DOSEWISE_ENVIRONMENT": "test", "DOSEWISE_LOG_LEVEL": "WARNING"}
    env.pop("DOSEWISE_MAP_TILES_URL", None)  # no internet: no background tiles
    proc = subprocess.Popen([sys.executable, "-c", _SERVE, str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Server(url=url, key=key, proc=proc)
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start within 60 s")


def load_sample(server: Server, name: str, strategies: tuple[str, ...] = ("threshold",)) -> list[int]:
    """Post one sample field, its weed map, its label and one prescription per strategy."""
    folder = SAMPLES / name
    field_doc = json.loads((folder / "field.json").read_text())
    field_id = server.post("/v1/fields", field_doc)["id"]
    server.post(f"/v1/fields/{field_id}/weed-maps", json.loads((folder / "weed_map.json").read_text()))
    product_id = server.post("/v1/products", json.loads((LABELS / SAMPLE_LABELS[name]).read_text()))["id"]
    ids = [server.post("/v1/prescriptions", {"field_id": field_id, "product_ids": [product_id],
                                             "strategy": {"name": s}})["id"] for s in strategies]
    server.prescriptions[name] = ids
    return ids


def load_documents(server: Server, docs: dict[str, Any], name: str = "small",
                   strategies: tuple[str, ...] = ("threshold", "broadcast")) -> list[int]:
    """The same from in-memory documents (``field``, ``weed_map``, ``label``)."""
    field_id = server.post("/v1/fields", docs["field"])["id"]
    server.post(f"/v1/fields/{field_id}/weed-maps", docs["weed_map"])
    product_id = server.post("/v1/products", docs["label"])["id"]
    ids = [server.post("/v1/prescriptions", {"field_id": field_id, "product_ids": [product_id],
                                             "strategy": {"name": s}})["id"] for s in strategies]
    server.prescriptions[name] = ids
    return ids


def chromium_paths() -> tuple[str, str] | None:
    """(chromium, chromedriver) from the system, or ``None`` when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    return None


def browser(user_data_dir: Path, *, width: int = 1280, height: int = 860, download_dir: Path | None = None,
            offline: bool = False) -> Any:
    """A headless Chromium driven by the system chromedriver, with a fresh profile.

    ``offline``: every request but those to this machine goes to a proxy that is not there (Chromium
    never proxies loopback), as on a farm office PC with no internet.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    if paths is None:
        raise RuntimeError("chromium or chromedriver not installed")
    opts = webdriver.ChromeOptions()
    opts.binary_location = paths[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={user_data_dir}",
                f"--window-size={width},{height}", "--hide-scrollbars"):
        opts.add_argument(arg)
    if offline:
        opts.add_argument(f"--proxy-server=http://127.0.0.1:{free_port()}")
    if download_dir is not None:
        opts.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                               "download.prompt_for_download": False})
    return webdriver.Chrome(options=opts, service=Service(executable_path=paths[1]))


def emulate_phone(driver: Any, width: int = 360, height: int = 740) -> None:
    """Make the page see a phone screen (desktop Chromium windows cannot be this narrow)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
