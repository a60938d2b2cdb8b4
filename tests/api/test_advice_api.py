"""Advice over HTTP: built-in by default, stored, served in en and fr, as JSON, text and Markdown."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.tables import Advice


def _prescription(client: TestClient, h: dict[str, str], docs: dict[str, Any]) -> int:
    fid = client.post("/v1/fields", json=docs["field"], headers=h).json()["id"]
    client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=h)
    pid = client.post("/v1/products", json=docs["label"], headers=h).json()["id"]
    r = client.post("/v1/prescriptions", headers=h, json={
        "field_id": fid, "product_ids": [pid], "strategy": {"name": "threshold", "rates": [1.5]}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_builtin_advice_en_fr_stored(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                     session: Session, make_key: Any) -> None:
    rx = _prescription(client, agro, docs)
    en = client.get(f"/v1/prescriptions/{rx}/advice?lang=en", headers=agro)
    assert en.status_code == 200, en.text
    body = en.json()
    assert body["writer"] == "builtin" and body["lang"] == "en"
    assert any("1.5 L/ha" in s for s in [body["summary"], *body["steps"]])
    fr = client.get(f"/v1/prescriptions/{rx}/advice?lang=fr", headers=agro).json()
    assert any("1,5 L/ha" in s for s in [fr["summary"], *fr["steps"]])
    assert session.scalar(select(func.count()).select_from(Advice)) == 2
    # served from storage the second time, to a farmer too
    farmer = make_key("farmer", "acme")
    again = client.get(f"/v1/prescriptions/{rx}/advice?lang=en", headers=farmer)
    assert again.json()["stored_at"] == body["stored_at"]
    text = client.get(f"/v1/prescriptions/{rx}/advice?lang=fr&format=text", headers=farmer)
    assert text.headers["content-type"].startswith("text/plain") and "1,5 L/ha" in text.text
    md = client.get(f"/v1/prescriptions/{rx}/advice?format=markdown", headers=farmer)
    assert md.headers["content-type"].startswith("text/markdown")
    assert client.get(f"/v1/prescriptions/{rx}/advice?lang=xx", headers=agro).status_code == 422


def test_advice_of_other_org_is_404(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                    make_key: Any) -> None:
    rx = _prescription(client, agro, docs)
    assert client.get(f"/v1/prescriptions/{rx}/advice", headers=make_key("farmer", "globex")).status_code == 404
