"""Advice over HTTP: built-in by default, stored, served in en and fr, as JSON, text and Markdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.tables import Advice

_TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()


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


def _llm_app(client: TestClient, base_url: str, model: str, timeout_s: float = 5.0) -> None:
    app = client.app
    app.state.settings = app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"llm_base_url": base_url, "llm_model": model, "llm_api_key": "test", "llm_timeout_s": timeout_s})


def test_llm_writer_over_http_and_its_fallback(client: TestClient, agro: dict[str, str],
                                               docs: dict[str, Any], session: Session) -> None:
    import json

    from app.advice.builtin import builtin_parts
    from app.advice.facts import FactSheet
    from tests.advice.advice_helpers import FakeChatServer

    rx = _prescription(client, agro, docs)
    facts = FactSheet.model_validate(client.get(f"/v1/prescriptions/{rx}/advice", headers=agro).json()["facts"])
    parts = builtin_parts(facts, "en")
    good = json.dumps({"summary": "In short: " + parts.summary, "steps": list(parts.steps),
                       "warnings": [{"code": c, "text": t} for c, t in parts.warnings]})
    with FakeChatServer() as server:
        server.behaviours["good-model"] = ("content", good)
        server.behaviours["broken-model"] = ("status", 500)
        _llm_app(client, server.base_url, "good-model")
        r = client.post(f"/v1/prescriptions/{rx}/advice", headers=agro, json={"lang": "en"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["writer"] == "llm" and body["model"] == "good-model" and body["summary"].startswith("In short")
        assert server.requests and server.requests[-1]["body"]["model"] == "good-model"

        _llm_app(client, server.base_url, "broken-model")
        r = client.post(f"/v1/prescriptions/{rx}/advice", headers=agro, json={"lang": "en"})
        body = r.json()
        assert r.status_code == 200 and body["writer"] == "builtin"
        assert "500" in body["fallback_reason"]
    stored = session.scalars(select(Advice).where(Advice.prescription_id == rx, Advice.lang == "en")).one()
    assert stored.writer == "builtin" and stored.model == "broken-model"
    assert "500" in stored.content["fallback_reason"]


def test_truncated_llm_answer_is_served_as_builtin_with_the_refusals_stored(
        client: TestClient, agro: dict[str, str], docs: dict[str, Any], session: Session) -> None:
    from tests.advice.advice_helpers import FakeChatServer

    rx = _prescription(client, agro, docs)
    with FakeChatServer() as server:
        server.behaviours["cut-model"] = ("script", [
            ("content", '{"summary": "Spray {rate.1}", "steps": ["Apply'),
            ("content", '{"summary": "Double the rate on dense patches.", "steps": ["Apply {rate.1}."], '
                        '"warning_notes": []}')])
        _llm_app(client, server.base_url, "cut-model")
        r = client.get(f"/v1/prescriptions/{rx}/advice?lang=fr", headers=agro)
        assert r.status_code == 200, r.text
        assert r.json()["writer"] == "builtin"
        assert [b["body"]["max_tokens"] for b in server.requests] == [1200, 1200]
    stored = session.scalars(select(Advice).where(Advice.prescription_id == rx, Advice.lang == "fr")).one()
    first, second = stored.content["attempts"]
    assert first["reason"].startswith("bad_json")
    assert {"code": "unsafe_instruction", "detail": "Double the rate on dense patches", "rule": "double_rate"} \
        in second["problems"]
    assert stored.content["fallback_reason"] == second["reason"]


def test_advice_with_a_forecast_has_a_spray_window(client: TestClient, agro: dict[str, str],
                                                   docs: dict[str, Any]) -> None:
    rx = _prescription(client, agro, docs)
    # 48.53 N 2.05 E, tomorrow from 08:00 UTC: calm enough, then a windy afternoon (past hours are ignored,
    # so the forecast must lie ahead)
    hours = [{"time": f"{_TOMORROW}T{h:02d}:00:00+00:00", "wind_kmh": 8.0 if h < 13 else 30.0,
              "wind_dir_deg": 270.0, "gust_kmh": 12.0, "temp_c": 16.0, "rain_mm": 0.0, "cloud_pct": 60.0}
             for h in range(8, 18)]
    r = client.post(f"/v1/prescriptions/{rx}/advice", headers=agro,
                    json={"lang": "en", "forecast": {"lat": 48.53, "lon": 2.05, "hours": hours}})
    assert r.status_code == 200, r.text
    weather = r.json()["facts"]["weather"]
    allowed = [h["allowed"] for h in weather["hours"]]
    assert allowed[:5] == [True] * 5 and not any(allowed[5:])
    bad = client.post(f"/v1/prescriptions/{rx}/advice", headers=agro,
                      json={"lang": "en", "forecast": {"lat": 48.53, "lon": 2.05, "hours": hours[::2]}})
    assert bad.status_code == 422 and "one hour apart" in bad.json()["error"]["message"]


def test_stored_field_forecast_feeds_the_advice(client: TestClient, agro: dict[str, str],
                                                docs: dict[str, Any], make_key: Any) -> None:
    rx = _prescription(client, agro, docs)
    fid = client.get(f"/v1/prescriptions/{rx}", headers=agro).json()["field_id"]
    assert client.get(f"/v1/fields/{fid}/forecast", headers=agro).status_code == 404
    first = client.get(f"/v1/prescriptions/{rx}/advice", headers=agro).json()
    assert first["facts"]["weather"] is None
    hours = [{"time": f"{_TOMORROW}T{h:02d}:00:00+00:00", "wind_kmh": 30.0, "wind_dir_deg": 200.0,
              "gust_kmh": 40.0, "temp_c": 15.0, "rain_mm": 0.0, "cloud_pct": 50.0} for h in range(9, 12)]
    tele = make_key("telematics", "acme")  # a weather feed posts field data
    r = client.put(f"/v1/fields/{fid}/forecast", headers=tele, json={"lat": 48.53, "lon": 2.05, "hours": hours})
    assert r.status_code == 200, r.text
    assert len(client.get(f"/v1/fields/{fid}/forecast", headers=agro).json()["hours"]) == 3
    # stored advice was dropped; the next read is written with the windy forecast
    again = client.get(f"/v1/prescriptions/{rx}/advice", headers=agro).json()
    assert again["stored_at"] != first["stored_at"]
    assert [h["allowed"] for h in again["facts"]["weather"]["hours"]] == [False] * 3
    assert client.put(f"/v1/fields/{fid}/forecast", headers=make_key("farmer", "acme"),
                      json={"lat": 48.53, "lon": 2.05, "hours": hours}).status_code == 403


def test_advice_in_german_and_in_us_units_on_request(client: TestClient, agro: dict[str, str],
                                                     docs: dict[str, Any]) -> None:
    rx = _prescription(client, agro, docs)
    de = client.get(f"/v1/prescriptions/{rx}/advice", headers=agro, params={"lang": "de"})
    assert de.status_code == 200, de.text
    body = de.json()
    assert body["lang"] == "de" and body["check"]["ok"], body["check"]
    assert body["summary"].startswith(body["facts"]["field"]["name"])
    assert any(s.startswith("Tankplan: ") for s in body["steps"])
    assert {w["code"] for w in body["warnings"]} >= {"reentry", "harvest_interval", "weather"}
    us = client.post(f"/v1/prescriptions/{rx}/advice", headers=agro, json={"lang": "en", "units": "us"})
    assert us.status_code == 200, us.text
    assert us.json()["facts"]["units"] == "us" and us.json()["facts"]["tank_plan"]["volume_unit"] == "gal"
    assert " acres (" in us.json()["summary"]
    bad = client.post(f"/v1/prescriptions/{rx}/advice", headers=agro, json={"lang": "en", "units": "imperial"})
    assert bad.status_code == 422
    assert client.get(f"/v1/prescriptions/{rx}/advice", headers=agro, params={"lang": "es"}).status_code == 422
