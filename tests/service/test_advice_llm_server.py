"""A misbehaving model never makes the real server answer 5xx.

The service runs in a subprocess (real uvicorn, real database) configured with
an OpenAI-compatible model on 127.0.0.1 that answers with cut JSON, a 53 KB
answer, then dangerous prose. Every advice request gets 200 with the built-in
text, and the stored advice says which rule refused what.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.models import repo
from app.models.db import make_engine, session_factory
from app.models.migrate import upgrade
from tests.advice.advice_helpers import FakeChatServer
from tests.api.conftest import FIELD, LABEL, weed_grid
from tests.service.test_durability import _free_port


@pytest.fixture
def llm_server(fresh_db_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    with session_factory(engine)() as s:
        org = repo.get_or_create_org(s, "llm-guard")
        _row, key = repo.create_api_key(s, org, "agronomist")
        s.commit()
    engine.dispose()
    with FakeChatServer() as chat:
        port = _free_port()
        env = {**os.environ, "DOSEWISE_DATABASE_URL": fresh_db_url, "DOSEWISE_DATA_DIR": str(tmp_path),
               "DOSEWISE_LLM_BASE_URL": chat.base_url, "DOSEWISE_LLM_MODEL": "misbehaving",
               "DOSEWISE_LLM_TIMEOUT_S": "5", "DOSEWISE_LLM_MAX_CHARS": "20000"}
        code = ("import uvicorn; from app.main import create_app; "
                f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning')")
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120  # imports alone take 30 s on a loaded 2-core machine
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("server did not start") from None
                    time.sleep(0.2)
            yield {"url": f"http://127.0.0.1:{port}", "key": key, "chat": chat}
        finally:
            proc.kill()
            proc.wait(timeout=10)


def test_misbehaving_model_gets_builtin_advice_never_a_5xx(llm_server: dict[str, Any]) -> None:
    url, chat = llm_server["url"], llm_server["chat"]
    h = {"Authorization": f"Bearer {llm_server['key']}"}
    fid = httpx.post(f"{url}/v1/fields", json=FIELD, headers=h, timeout=10).json()["id"]
    assert httpx.post(f"{url}/v1/fields/{fid}/weed-maps", json=weed_grid(), headers=h, timeout=30).status_code == 201
    pid = httpx.post(f"{url}/v1/products", json=LABEL, headers=h, timeout=10).json()["id"]
    r = httpx.post(f"{url}/v1/prescriptions", headers=h, timeout=60, json={
        "field_id": fid, "product_ids": [pid], "strategy": {"name": "threshold", "rates": [1.5]}})
    assert r.status_code == 201, r.text
    rx = r.json()["id"]

    big = json.dumps({"summary": "x", "steps": ["Spray carefully. " * 3200], "warning_notes": []})
    chat.behaviours["misbehaving"] = ("script", [
        ("content", '{"summary": "Spray {rate.1}", "steps": ["Apply'),  # cut JSON
        ("content", big),                                                # 53 KB
        ("content", json.dumps({"summary": "{field}: spray {rate.1}.", "steps": [
            "Where weeds are dense, double the rate.", "Spraying near the stream is fine."],
            "warning_notes": []})),
    ])
    en = httpx.get(f"{url}/v1/prescriptions/{rx}/advice?lang=en", headers=h, timeout=30)
    assert en.status_code == 200, en.text
    assert en.json()["writer"] == "builtin"
    assert [a["reason"].split(":")[0] for a in en.json()["attempts"]] == ["bad_json", "too_long"]

    fr = httpx.post(f"{url}/v1/prescriptions/{rx}/advice", headers=h, timeout=30, json={"lang": "fr"})
    assert fr.status_code == 200 and fr.json()["writer"] == "builtin"
    rules = {p["rule"] for a in fr.json()["attempts"] for p in a["problems"]}
    assert {"double_rate", "permissive_water", "language"} <= rules
    # stored as served
    again = httpx.get(f"{url}/v1/prescriptions/{rx}/advice?lang=fr", headers=h, timeout=30).json()
    assert again["attempts"] == fr.json()["attempts"]
