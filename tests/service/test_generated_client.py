"""A client generated from /openapi.json (openapi-python-client, offline) runs the README walk-through.

If the schema left out a parameter, a body or a response model the walk-through needs, the generated
client would not have it and this test would fail: the schema is complete enough to build on.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from shutil import which

import httpx
import pytest

from tests.service.sample_server import sample_server

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.mark.skipif(not GENERATOR.exists() and which("openapi-python-client") is None,
                    reason="openapi-python-client is not installed (test extra)")
def test_generated_client_runs_the_walkthrough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "srv").mkdir()
    with sample_server(tmp_path / "srv") as server:
        spec = httpx.get(f"{server.url}/openapi.json").json()
        (tmp_path / "openapi.json").write_text(json.dumps(spec))
        (tmp_path / "config.yaml").write_text("post_hooks: []\npackage_name_override: dosewise_client\n")
        # No network: the generator reads the file; the proxy variables point nowhere to prove it.
        env = {"PATH": "/usr/bin:/bin", "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
        gen = subprocess.run([str(GENERATOR) if GENERATOR.exists() else "openapi-python-client", "generate",
                              "--path", str(tmp_path / "openapi.json"), "--output-path",
                              str(tmp_path / "gen" / "dosewise_client"), "--meta", "none",
                              "--config", str(tmp_path / "config.yaml")],
                             capture_output=True, text=True, timeout=300, env=env)
        assert gen.returncode == 0, gen.stdout + gen.stderr
        monkeypatch.syspath_prepend(str(tmp_path / "gen"))
        importlib.invalidate_caches()
        c = importlib.import_module("dosewise_client")
        api = "dosewise_client.api"
        fields_api = importlib.import_module(f"{api}.fields.list_fields")
        products_api = importlib.import_module(f"{api}.products.list_products")
        weed_maps_api = importlib.import_module(f"{api}.fields.list_weed_maps")
        post_rx = importlib.import_module(f"{api}.prescriptions.post_prescription")
        get_rx = importlib.import_module(f"{api}.prescriptions.get_prescription")
        export = importlib.import_module(f"{api}.exports.export")
        check = importlib.import_module(f"{api}.exports.export_check")
        put_forecast = importlib.import_module(f"{api}.fields.put_forecast")
        get_advice = importlib.import_module(f"{api}.advice.get_advice")
        models = importlib.import_module("dosewise_client.models")

        with c.AuthenticatedClient(base_url=server.url, token=server.key, timeout=httpx.Timeout(120)) as client:
            field = next(f for f in fields_api.sync(client=client) if f.name == "Les Prés du Ru de Vaux")
            callisto = "Callisto (mésotrione 100 g/L), maïs"
            product = next(p for p in products_api.sync(client=client) if p.name == callisto)
            assert weed_maps_api.sync(field.id, client=client)[0].species

            body = models.PrescriptionCreate.from_dict({"field_id": field.id, "product_ids": [product.id],
                                                        "strategy": {"name": "threshold", "threshold_plants_m2": 2}})
            rx = post_rx.sync(client=client, body=body)
            assert isinstance(rx, models.PrescriptionPublic), rx
            again = get_rx.sync(rx.id, client=client)
            assert again.id == rx.id and again.products[0].name == product.name
            assert again.summary["treated_area_ha"] < again.summary["field_area_ha"]

            for fmt, kwargs, magic in (("geojson", {}, b"{"), ("isoxml", {}, b"PK"), ("png", {}, b"\x89PNG"),
                                       ("shapefile", {"terminal": "john-deere", "layout": "ops-center"}, b"PK")):
                r = export.sync_detailed(rx.id, fmt, client=client, **kwargs)
                assert r.status_code == 200 and r.content.startswith(magic), (fmt, r.status_code, r.content[:200])
            pre = check.sync_detailed(rx.id, "isoxml", client=client, terminal="raven")
            assert pre.status_code == 200 and json.loads(pre.content)["format"] == "isoxml"

            forecast = models.Forecast.from_dict(spec["components"]["schemas"]["Forecast"]["examples"][0])
            stored = put_forecast.sync(field.id, client=client, body=forecast)
            assert stored.lat == forecast.lat
            for lang, words in (("en", "1.5 L/ha"), ("fr", "1,5 L/ha")):
                # format json: the generated client parses a 200 as the first media type it lists (JSON)
                advice = get_advice.sync_detailed(rx.id, client=client, lang=models.GetAdviceLang(lang),
                                                  format_=models.GetAdviceFormat("json"))
                assert advice.status_code == 200, advice.content[:300]
                assert json.loads(advice.content)["lang"] == lang and words in json.loads(advice.content)["text"]

            bad = post_rx.sync_detailed(client=client, body=models.PrescriptionCreate.from_dict(
                {"field_id": field.id, "product_ids": [999_999]}))
            assert bad.status_code == 404 and json.loads(bad.content)["error"]["code"] == "not_found"
