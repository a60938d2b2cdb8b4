"""Task files from the API carry the field's farm and customer (ISOXML CTR/FRM); flat Ops Center zips."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import xmlschema
from fastapi.testclient import TestClient

XSD = Path(__file__).resolve().parents[1] / "export" / "xsd" / "ISO11783_TaskFile_V4-3.xsd"


def _prescription(client: TestClient, agro: dict[str, str], docs: dict, **field_extra: str) -> int:
    field = client.post("/v1/fields", json={**docs["field"], **field_extra}, headers=agro)
    assert field.status_code == 201, field.text
    fid = field.json()["id"]
    assert client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=agro).status_code == 201
    pid = client.post("/v1/products", json=docs["label"], headers=agro).json()["id"]
    rx = client.post("/v1/prescriptions", json={"field_id": fid, "product_ids": [pid]}, headers=agro)
    assert rx.status_code == 201, rx.text
    return int(rx.json()["id"])


def _taskdata(client: TestClient, agro: dict[str, str], rx: int) -> tuple[str, list[str]]:
    r = client.get(f"/v1/prescriptions/{rx}/export/isoxml", headers=agro)
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        return zf.read("TASKDATA/TASKDATA.XML").decode(), zf.namelist()


def test_farm_and_customer_go_into_ctr_and_frm(client: TestClient, agro: dict[str, str], docs: dict) -> None:
    rx = _prescription(client, agro, docs, farm="Ferme du Ru", customer="EARL Dupont")
    xml, names = _taskdata(client, agro, rx)
    xmlschema.XMLSchema(str(XSD)).validate(xml)
    assert '<CTR A="CTR1" B="EARL Dupont"' in xml
    assert '<FRM A="FRM1" B="Ferme du Ru" I="CTR1"' in xml
    assert re.search(r'<PFD A="PFD1" C="Test field" D="\d+" E="CTR1" F="FRM1"', xml)
    assert re.search(r'<TSK A="TSK1" B="[^"]*" C="CTR1" D="FRM1" E="PFD1"', xml)
    assert "TASKDATA/GRD00001.BIN" in names


def test_without_farm_or_customer_there_is_no_ctr_or_frm(client: TestClient, agro: dict[str, str],
                                                         docs: dict) -> None:
    rx = _prescription(client, agro, docs)
    xml, _ = _taskdata(client, agro, rx)
    xmlschema.XMLSchema(str(XSD)).validate(xml)
    assert "<CTR " not in xml and "<FRM " not in xml


def test_ops_center_layout_over_http(client: TestClient, agro: dict[str, str], docs: dict) -> None:
    rx = _prescription(client, agro, docs)
    base = f"/v1/prescriptions/{rx}/export/shapefile?terminal=john-deere"
    usb = zipfile.ZipFile(io.BytesIO(client.get(base, headers=agro).content)).namelist()
    flat = zipfile.ZipFile(io.BytesIO(client.get(base + "&layout=ops-center", headers=agro).content)).namelist()
    assert all(n.startswith("Rx/") for n in usb) and sorted(flat) == sorted(n[3:] for n in usb)
    r = client.get(f"/v1/prescriptions/{rx}/export/geojson?layout=ops-center", headers=agro)
    assert r.status_code == 422 and "layout" in r.json()["error"]["message"]
    r = client.get(base + "&layout=stick", headers=agro)
    assert r.status_code == 422 and "ops-center" in r.json()["error"]["message"]
