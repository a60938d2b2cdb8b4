"""The README's curl walk-through, run as written against a real server with the sample data."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from shutil import which

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _walkthrough() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## API walk-through (curl)", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


@pytest.mark.skipif(which("curl") is None, reason="curl is not installed")
def test_readme_walkthrough_runs(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "data").symlink_to(ROOT / "data")
    env = {**os.environ, "DOSEWISE_DATA_DIR": "var", "DOSEWISE_DATABASE_URL": "",
           "DOSEWISE_SHARE_DIR": str(ROOT / "data")}
    env.pop("DOSEWISE_DATABASE_URL")
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=tmp_path,
                              env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("server did not start")
        script = _walkthrough().replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")
        run = subprocess.run(["bash", "-eu", "-c", script], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        fc = json.loads((tmp_path / "rx.geojson").read_text())
        assert fc["type"] == "FeatureCollection" and fc["features"]
        assert (tmp_path / "rx.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        for z in ("rx-jd.zip", "rx-isoxml.zip"):
            assert (tmp_path / z).read_bytes()[:2] == b"PK"
        assert "1,5 L/ha" in run.stdout and "zones non traitées laissent" in run.stdout  # French advice, its buffer
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=20)
    assert "demo key" in out
