"""The dosewise command: prescribe from files, keys."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from app.cli import main
from app.species import DATA_DIR

FR = DATA_DIR / "sample_fields" / "fr-ru-de-vaux"


def test_prescribe_from_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["prescribe", "--field", str(FR / "field.json"), "--weed-map", str(FR / "weed_map.json"),
                 "--label", str(DATA_DIR / "labels" / "callisto-fr.json"), "--strategy", "threshold",
                 "--threshold", "2", "--format", "geojson", "--format", "isoxml", "--out", str(tmp_path)])
    assert code == 0
    result = json.loads((tmp_path / "prescription.json").read_text())
    s = result["summary"]
    assert 0 < s["treated_area_ha"] < s["field_area_ha"]
    prod = s["products"][0]
    assert prod["unit"] == "L/ha" and 0 < prod["total"] < prod["broadcast_total"]
    fc = json.loads(next(tmp_path.glob("*.geojson")).read_text())
    assert fc["type"] == "FeatureCollection" and fc["features"]
    with zipfile.ZipFile(next(tmp_path.glob("*.zip"))) as z:
        assert any(n.upper().endswith("TASKDATA.XML") for n in z.namelist())
    out = capsys.readouterr().out
    # the printed lines are the advice's: same rounding and units as the API and the map
    assert "spot-spray" in out and "saved" in out and "Tank plan: " in out
    assert (tmp_path / "advice.en.txt").read_text().startswith("Spray advice: ")


def test_prescribe_for_an_iowa_field_prints_acres_gallons_and_mph_first(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ia = DATA_DIR / "sample_fields" / "us-ia-story-county"
    code = main(["prescribe", "--field", str(ia / "field.json"), "--weed-map", str(ia / "weed_map.json"),
                 "--label", str(DATA_DIR / "labels" / "enlist-one.json"), "--format", "png", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    summary = next(line for line in out.splitlines() if line.startswith("Story County"))
    assert " acres (" in summary and " ha (" not in summary  # acres first, hectares in brackets
    assert " gal tank at " in out and " gal per acre" in out and " gal of water" in out
    assert "10 mph (16 km/h)" in out
    assert next(tmp_path.glob("*_preview.png")).stat().st_size > 1000
    bad = main(["prescribe", "--field", str(ia / "field.json"), "--weed-map", str(ia / "weed_map.json"),
                "--label", str(DATA_DIR / "labels" / "enlist-one.json"), "--lang", "xx", "--out", str(tmp_path)])
    assert bad == 2 and "valid languages" in capsys.readouterr().err


def test_prescribe_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    label = json.loads((DATA_DIR / "labels" / "callisto-fr.json").read_text())
    label["rate_unit"] = "kg/ha"
    bad = tmp_path / "bad-label.json"
    bad.write_text(json.dumps(label))
    code = main(["prescribe", "--field", str(FR / "field.json"), "--weed-map", str(FR / "weed_map.json"),
                 "--label", str(bad), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "formulation" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_keys_create_prints_a_working_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from app.models import repo
    from app.models.db import make_engine, session_factory
    from app.settings import get_settings

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert main(["keys", "create", "--org", "Ferme du Ru", "--role", "farmer"]) == 0
    finally:
        get_settings.cache_clear()
    key = capsys.readouterr().out.strip()
    engine = make_engine(url)
    with session_factory(engine)() as s:
        row = repo.find_api_key(s, key)
        assert row is not None and row.role == "farmer" and row.organisation.name == "Ferme du Ru"
    engine.dispose()


@pytest.mark.parametrize("args", [["--org", "", "--role", "farmer"], ["--org", "  ", "--role", "farmer"],
                                  ["--org", "a", "--role", "farmer", "--expires-days", "-3"],
                                  ["--org", "a", "--role", "farmer", "--expires-days", "nan"],
                                  ["--org", "a", "--role", "farmer", "--expires-days", "0"]])
def test_keys_create_refuses_empty_org_and_bad_expiry(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["keys", "create", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "organisation name" in err or "expiry must be" in err, err


def test_sqlite_file_and_data_dir_are_private(tmp_path: Path) -> None:
    from app.models.db import make_engine

    data = tmp_path / "var" / "data"
    engine = make_engine(f"sqlite:///{data / 'dosewise.sqlite3'}")
    with engine.connect():
        pass
    engine.dispose()
    assert (data / "dosewise.sqlite3").stat().st_mode & 0o777 == 0o600
    assert data.stat().st_mode & 0o777 == 0o700


IA = DATA_DIR / "sample_fields" / "us-ia-story-county"
ROUNDUP = str(DATA_DIR / "labels" / "roundup-powermax.json")


def test_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """In a fresh process, as a user runs it: no traceback."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "app.cli", "prescribe", "--field", str(tmp_path / "nope.json"),
                          "--weed-map", str(FR / "weed_map.json"), "--label", ROUNDUP],
                         capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"dosewise: error: --field {tmp_path / 'nope.json'}: no such file"]
    assert "Traceback" not in run.stderr


def test_invalid_document_names_file_and_field_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sprayer = tmp_path / "sprayer.json"
    sprayer.write_text('{"section_width": 3}')
    code = main(["prescribe", "--field", str(IA / "field.json"), "--weed-map", str(IA / "weed_map.json"),
                 "--label", ROUNDUP, "--sprayer", str(sprayer), "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"dosewise: error: --sprayer {sprayer}: section_width: Extra inputs are not permitted; "
                   "did you mean section_width_m?")
    assert not (tmp_path / "out").exists()


def test_us_field_prints_acres_and_gallons_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prescribe", "--field", str(IA / "field.json"), "--weed-map", str(IA / "weed_map.json"),
                 "--label", ROUNDUP, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    result = json.loads((tmp_path / "prescription.json").read_text())
    s, p = result["summary"], result["summary"]["products"][0]
    gal = p["total"] / 3.785411784
    assert f"Roundup PowerMAX: {gal:.2f} gal ({p['total']:.2f} L;" in out
    ac = s["field_area_ha"] / 0.40468564224
    assert f"of {ac:.2f} ac ({s['treated_area_ha']:.2f} ha of {s['field_area_ha']:.2f} ha)" in out


def test_sprayer_profile_changes_the_prescription(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["prescribe", "--field", str(IA / "field.json"), "--weed-map", str(IA / "weed_map.json"),
            "--label", ROUNDUP]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    wide = tmp_path / "wide.json"
    wide.write_text('{"section_width_m": 6, "boom_width_m": 36}')
    assert main([*args, "--sprayer", str(wide), "--out", str(tmp_path / "b")]) == 0
    a = json.loads((tmp_path / "a" / "prescription.json").read_text())["summary"]
    b = json.loads((tmp_path / "b" / "prescription.json").read_text())["summary"]
    assert b["treated_area_ha"] > a["treated_area_ha"]  # 6 m sections cannot spot-spray as tightly


@pytest.mark.parametrize(("lang", "words"), [("en", "Steps:"), ("fr", "Étapes\u00a0:"), ("de", "Schritte:")])
def test_advice_command_in_each_language(lang: str, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advice", "--field", str(IA / "field.json"), "--weed-map", str(IA / "weed_map.json"),
                 "--label", ROUNDUP, "--lang", lang]) == 0
    out = capsys.readouterr().out
    assert words in out and "Roundup PowerMAX" in out and "32 fl oz/acre" in out


def test_foreign_label_refused_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["prescribe", "--field", str(FR / "field.json"), "--weed-map", str(FR / "weed_map.json"),
            "--label", str(DATA_DIR / "labels" / "callisto-4sc.json"), "--out", str(tmp_path)]
    assert main(args) == 2
    assert "labelled in US, but the field is in FR" in capsys.readouterr().err
    assert main([*args, "--allow-foreign-labels"]) == 0
    assert "warning: Callisto is labelled in US, the field is in FR" in capsys.readouterr().err


def test_keys_revoke_takes_the_prefix_as_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    from app.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["keys", "create", "--org", "Ferme du Ru", "--role", "farmer"]) == 0
        captured = capsys.readouterr()
        printed = captured.err.split("prefix ", 1)[1].split()[0]
        assert printed.startswith("dw_") and captured.out.startswith(printed + "_")
        assert main(["keys", "revoke", printed]) == 0
        assert main(["keys", "revoke", printed]) == 0  # revoking again is harmless
        assert main(["keys", "revoke", "dw_000000000000"]) == 1
    finally:
        get_settings.cache_clear()


def test_verify_a_received_file_against_its_prescription(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`dosewise verify FILE --prescription ID`: exit 0 and the report for a good file, 1 for a tampered one."""
    import io

    from app.export import render
    from app.models.tables import Prescription
    from app.samples import load_samples
    from app.services.exports import export_job
    from app.settings import get_settings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        from app.cli import _session

        with _session() as session:
            load_samples(session, "demo")
            session.commit()
            row = session.query(Prescription).order_by(Prescription.id).first()
            assert row is not None
            out = render(export_job(session, row), "geotiff")
            rx_id = row.id
        good = tmp_path / "rx.tif"
        good.write_bytes(out.content)
        assert main(["verify", str(good), "--prescription", str(rx_id)]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["ok"] is True and report["format"] == "geotiff" and report["reader"] == "rasterio"

        import numpy as np
        from rasterio.io import MemoryFile

        with MemoryFile(out.content) as mem, mem.open() as src:
            data, profile = src.read(), src.profile
            units = src.units
        data[~np.isnan(data)] = float(np.nanmax(data)) * 3  # over the label everywhere, buffers and all
        buf = io.BytesIO()
        with MemoryFile() as mem2:
            with mem2.open(**{**profile, "driver": "GTiff"}) as dst:
                dst.write(data)
                dst.units = units
            buf.write(mem2.read())
        bad = tmp_path / "tampered.tif"
        bad.write_bytes(buf.getvalue())
        assert main(["verify", str(bad), "--prescription", str(rx_id)]) == 1
        assert "REFUSE" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
