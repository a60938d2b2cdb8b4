"""Guards an agronomist expects: known answers for each, through the HTTP API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.crops import normalise_crop
from app.domain.units import normalise_rate_unit
from app.models.tables import Prescription, Product


def _post(client: TestClient, agro: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers=agro)


def _setup(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> tuple[int, int]:
    field = _post(client, agro, "/v1/fields", docs["field"])
    assert field.status_code == 201, field.text
    fid = field.json()["id"]
    assert _post(client, agro, f"/v1/fields/{fid}/weed-maps", docs["weed_map"]).status_code == 201
    prod = _post(client, agro, "/v1/products", docs["label"])
    assert prod.status_code == 201, prod.text
    return fid, prod.json()["id"]


def test_label_of_another_country_is_refused_unless_allowed(client, agro, docs, session: Session) -> None:
    docs["label"]["country"] = "US"
    fid, pid = _setup(client, agro, docs)
    before = session.scalar(select(func.count()).select_from(Prescription))
    r = _post(client, agro, "/v1/prescriptions", {"field_id": fid, "product_ids": [pid]})
    assert r.status_code == 422, r.text
    msg = r.json()["error"]["message"]
    assert "labelled in US" in msg and "field is in FR" in msg and "allow_foreign_labels" in msg
    assert session.scalar(select(func.count()).select_from(Prescription)) == before
    r = _post(client, agro, "/v1/prescriptions", {"field_id": fid, "product_ids": [pid], "allow_foreign_labels": True})
    assert r.status_code == 201, r.text
    checks = [c for c in r.json()["compliance"] if c["check"] == "label_country"]
    assert [c["outcome"] for c in checks] == ["warning"]


def test_label_of_the_field_country_passes(client, agro, docs) -> None:
    fid, pid = _setup(client, agro, docs)
    r = _post(client, agro, "/v1/prescriptions", {"field_id": fid, "product_ids": [pid]})
    assert r.status_code == 201, r.text
    assert {"check": "label_country", "outcome": "pass",
            "detail": "Testazine 500 SC: labelled in FR, as the field"} in r.json()["compliance"]


@pytest.mark.parametrize(("change", "expect"), [
    ({"max_rate": 1500}, "max_rate 1500 L/ha is above the plausible 20 L/ha"),
    ({"max_rate": 3, "rate_unit": "mL/ha"}, "max_rate 3 mL/ha is below the plausible 0.01 L/ha"),
    ({"formulation": "solid", "rate_unit": "kg/ha", "max_rate": 250, "price": None},
     "max_rate 250 kg/ha is above the plausible 100 kg/ha"),
    ({"efficacy": [{"species": "ALOMY", "b": 2.0, "e": 300}]},
     "efficacy[0].e: an ED50 of 300 L/ha for ALOMY is implausible"),
])
def test_implausible_labels_are_refused(client, agro, docs, session: Session, change, expect) -> None:
    docs["label"].update(change)
    before = session.scalar(select(func.count()).select_from(Product))
    r = _post(client, agro, "/v1/products", docs["label"])
    assert r.status_code == 422, r.text
    assert expect in r.json()["error"]["message"]
    assert session.scalar(select(func.count()).select_from(Product)) == before


def test_tolerant_species_ed50_well_above_the_maximum_is_kept(client, agro, docs) -> None:
    docs["label"]["efficacy"] = [{"species": "ALOMY", "b": 2.0, "e": 40.0}]  # 20 x max: a grass on 2,4-D
    docs["label"]["max_rate"] = 2.0
    assert _post(client, agro, "/v1/products", docs["label"]).status_code == 201


@pytest.mark.parametrize(("field_crop", "label_crop"), [
    ("Winter wheat", "winter_wheat"), ("winter_wheat", "Winter Wheat"), ("blé d'hiver", "winter_wheat"),
    ("Maïs", "maize"), ("corn", "maize"), ("  MAIZE ", "maize"),
])
def test_crop_names_are_normalised(client, agro, docs, field_crop, label_crop) -> None:
    docs["field"]["crop"] = field_crop
    docs["label"]["crops"] = [{"crop": label_crop, "max_bbch": 40}]
    fid, pid = _setup(client, agro, docs)
    r = _post(client, agro, "/v1/prescriptions", {"field_id": fid, "product_ids": [pid]})
    assert r.status_code == 201, r.text
    assert normalise_crop(field_crop) == normalise_crop(label_crop)
    assert client.get(f"/v1/fields/{fid}", headers=agro).json()["crop"] == normalise_crop(label_crop)


def test_missing_growth_stage_is_a_compliance_warning_when_the_label_limits_stages(client, agro, docs) -> None:
    docs["field"].pop("growth_stage_bbch")
    fid, pid = _setup(client, agro, docs)
    r = _post(client, agro, "/v1/prescriptions", {"field_id": fid, "product_ids": [pid]})
    assert r.status_code == 201, r.text
    stage = [c for c in r.json()["compliance"] if c["check"] == "crop_stage"]
    assert [c["outcome"] for c in stage] == ["warning"]
    assert "BBCH 18" in stage[0]["detail"] and "not checked" in stage[0]["detail"]


@pytest.mark.parametrize(("written", "stored", "max_rate"), [
    ("l/ha", "L/ha", 2.0), ("ml/ha", "mL/ha", 2000), ("fl oz/ac", "fl oz/acre", 27),
    ("FL. OZ/A", "fl oz/acre", 27), ("pts/acre", "pt/acre", 1.7), ("L / ha", "L/ha", 2.0),
])
def test_common_unit_spellings_are_accepted_and_normalised(client, agro, docs, written, stored, max_rate) -> None:
    docs["label"].update({"rate_unit": written, "max_rate": max_rate, "max_season_rate": None, "min_rate": 0})
    r = _post(client, agro, "/v1/products", docs["label"])
    assert r.status_code == 201, r.text
    assert r.json()["label"]["rate_unit"] == stored
    assert normalise_rate_unit(written) == stored


def test_unknown_unit_still_lists_the_valid_ones(client, agro, docs) -> None:
    docs["label"]["rate_unit"] = "furlongs/ha"
    r = _post(client, agro, "/v1/products", docs["label"])
    assert r.status_code == 422
    assert "fl oz/acre" in r.json()["error"]["message"]


def test_near_miss_field_name_gets_a_hint(client, agro, docs) -> None:
    docs["label"]["weather"] = {"wind_max_mph": 12}
    r = _post(client, agro, "/v1/products", docs["label"])
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["message"] == "weather.wind_max_mph: Extra inputs are not permitted; did you mean wind_max_kmh?"
    docs["label"]["weather"] = {"colour_of_sky": "blue"}
    r = _post(client, agro, "/v1/products", docs["label"])
    assert "did you mean" not in r.json()["error"]["message"]
