"""The README's curl walk-through, run as written against a real server with the sample data."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path
from shutil import which

import httpx
import pytest

from tests.service.sample_server import sample_server

ROOT = Path(__file__).resolve().parents[2]


def _walkthrough() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## API walk-through (curl)", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


@pytest.mark.skipif(which("curl") is None, reason="curl is not installed")
def test_readme_walkthrough_runs(tmp_path: Path) -> None:
    console: list[str] = []
    with sample_server(tmp_path, console) as server:
        port, env = server.port, server.env
        # As a newcomer runs it: the README's text unchanged, the port from PORT as `make run` takes it.
        run = subprocess.run(["bash", "-eu", "-c", _walkthrough()], cwd=tmp_path, env={**env, "PORT": str(port)},
                             capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert run.stderr == "", run.stderr[-2000:]
        fc = json.loads((tmp_path / "rx.geojson").read_text())
        assert fc["type"] == "FeatureCollection" and fc["features"]
        assert (tmp_path / "rx.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        names = {z: zipfile.ZipFile(tmp_path / z).namelist() for z in ("rx-jd.zip", "rx-jd-ops.zip", "rx-isoxml.zip")}
        assert all(n.startswith("Rx/") for n in names["rx-jd.zip"])
        assert sorted(names["rx-jd-ops.zip"]) == sorted(n.removeprefix("Rx/") for n in names["rx-jd.zip"])
        assert sorted(names["rx-isoxml.zip"]) == ["TASKDATA/GRD00001.BIN", "TASKDATA/TASKDATA.XML"]
        assert "1.5 L/ha" in run.stdout and "1,5 L/ha" in run.stdout  # advice in English, then French
        assert "zones non traitées laissent" in run.stdout  # the French advice names its buffer
        assert "No forecast" not in run.stdout and "Aucune prévision" not in run.stdout  # the forecast was used
        key = (tmp_path / "var" / "demo-key.txt").read_text().strip()
        headers = {"Authorization": f"Bearer {key}"}
        fields = httpx.get(f"http://127.0.0.1:{port}/v1/fields", headers=headers).json()
        products = httpx.get(f"http://127.0.0.1:{port}/v1/products", headers=headers).json()
        assert len(fields) == len(list((ROOT / "data" / "sample_fields").glob("*/field.json")))
        assert len(products) == len(list((ROOT / "data" / "labels").glob("*.json")))
        assert len({f["name"] for f in fields}) == len(fields)
        assert len({p["name"] for p in products}) == len(products)
    assert "demo key" in console[0]


@pytest.mark.parametrize(("helper", "answer"), [
    ("id", '{"error": {"code": "invalid_request", "message": "field_id: Field required"}}'),
    ("pick 'No such field'", '[{"id": 1, "name": "Les Prés du Ru de Vaux"}]'),
])
def test_walkthrough_helpers_fail_loudly(helper: str, answer: str) -> None:
    """An error answer stops the walk-through with the answer shown, not a traceback or an empty id."""
    helpers = "\n".join(line for line in _walkthrough().split("\n\n")[0].splitlines()
                        if not line.startswith(("API=", "dw()")))
    run = subprocess.run(["bash", "-eu", "-c", f"{helpers}\nX=$(echo '{answer}' | {helper})\necho reached $X"],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode != 0 and "reached" not in run.stdout
    assert run.stderr.startswith("error: ") and "Traceback" not in run.stderr
    assert ("field_id: Field required" in run.stderr) if helper == "id" else ("'No such field'" in run.stderr)
