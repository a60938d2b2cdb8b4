"""One structured line per request; 4xx are not errors; 5xx carry the traceback."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_request_lines(client: TestClient, agro: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    keep = _Keep()
    logger = logging.getLogger("dosewise.request")
    monkeypatch.setattr(logger, "handlers", [keep])
    r = client.get("/v1/fields", headers={**agro, "X-Request-Id": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    assert client.get("/v1/fields/999", headers=agro).status_code == 404

    import app.api.routes.fields as fields_routes

    def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(fields_routes.repo, "list_owned", boom)
    assert client.get("/v1/fields", headers=agro).status_code == 500

    lines = [(r, r.fields) for r in keep.records]  # type: ignore[attr-defined]
    assert [f["status"] for _r, f in lines] == [200, 404, 500]
    for _record, f in lines:
        assert set(f) >= {"request_id", "method", "path", "status", "duration_ms"}
        assert f["method"] == "GET" and f["duration_ms"] >= 0
    assert lines[0][1]["request_id"] == "abc123"
    assert [r.levelname for r, _f in lines] == ["INFO", "INFO", "ERROR"]
    assert lines[2][0].exc_info is not None  # the traceback goes with the 5xx line
    # and the formatter writes each as one JSON line
    from app.logging import JsonFormatter

    out = JsonFormatter().format(lines[2][0])
    assert "\n" not in out.split('"traceback"')[0]
    parsed = json.loads(out)
    assert parsed["status"] == 500 and "disk on fire" in parsed["traceback"]
