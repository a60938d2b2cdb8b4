import json

import pytest

from app.advice import build_fact_sheet, check_answer, write_advice
from app.advice.builtin import TEMPLATES, builtin_parts
from app.advice.examples import example_inputs
from app.domain.units import to_canonical_rate

FL_OZ_ACRE = to_canonical_rate(1.0, "fl oz/acre")  # L/ha


def test_rate_line_en_and_fr(us_facts, fr_facts):
    assert builtin_parts(us_facts, "en").steps[0] == (
        "Roundup PowerMAX: 32 fl oz/acre (2.34 L/ha) on the treated area (label maximum 32 fl oz/acre).")
    assert builtin_parts(fr_facts, "fr").steps[0] == (
        "Mesotrix 100 : 1,5 L/ha sur la zone traitée (maximum autorisé 1,5 L/ha).")
    assert builtin_parts(fr_facts, "en").steps[0] == (
        "Mesotrix 100: 1.5 L/ha on the treated area (label maximum 1.5 L/ha).")


def test_key_lines_fr(fr_facts):
    parts = builtin_parts(fr_facts, "fr")
    assert parts.summary == (
        "Les Prés du Ru (maize, BBCH 14) : traiter localement 3,2 ha sur 12,5 ha (26\u202f%) "
        "avec Mesotrix 100."
        " Soit 73\u202f% de produit en moins qu’un traitement en plein.")
    assert parts.steps[1] == (
        "Total Mesotrix 100 : 4,8 L, contre 18 L en plein : 13,2 L économisés (73\u202f%), soit 528 EUR.")
    assert parts.steps[2] == "Prévoir 2 cuves."
    assert parts.steps[3] == "Adventices trouvées : chénopode blanc (CHEAL) : efficacité attendue 96\u202f%."
    assert parts.steps[4] == ("Prochain créneau de traitement : mar. 4 juin 07:00–15:00, vent de SO "
                              "(2–10 km/h) : le côté sous le vent est NE.")
    warnings = dict(parts.warnings)
    assert warnings["buffers"] == "Zones non traitées : 5 m des points d’eau (Mesotrix 100)."
    assert warnings["reentry"].startswith("Délai de rentrée : personne dans la zone traitée pendant 6 h")


def test_key_lines_en_us(us_facts):
    parts = builtin_parts(us_facts, "en")
    assert parts.steps[2] == ("Total Roundup PowerMAX: 2.47 gal (9.35 L), against 9.58 gal for a broadcast: "
                              "7.1 gal saved (74%), worth 175 USD.")
    warnings = dict(parts.warnings)
    assert warnings["buffers"] == "No-spray buffers: 240 ft (73 m) downwind of the field (Engenia)."
    assert warnings["weather"].startswith(
        "Weather: spray only with wind between 5 km/h and 16 km/h (3–10 mph), when no rain is expected for "
        "4 h after spraying, between sunrise and sunset")
    window = next(s for s in parts.steps if s.startswith("Next spray window"))
    assert window.endswith(
        "wind from SW (10 km/h): the downwind side is NE. Keep 240 ft (73 m) on the NE side.")
    assert "Group 9 (glyphosate) resistant amaranth" in warnings["resistance"]


def test_builtin_is_deterministic_and_grounded(us_facts, fr_facts):
    for facts in (us_facts, fr_facts):
        for lang in ("en", "fr"):
            a, b = write_advice(facts, lang=lang), write_advice(facts, lang=lang)
            assert a == b
            assert a.writer == "builtin" and a.fallback_reason is None
            assert a.check.ok, a.check.problems
            assert set(facts.mandatory_warnings) <= set(a.warning_codes)


def test_advice_as_dict_is_json(fr_facts):
    d = write_advice(fr_facts, lang="fr").as_dict()
    back = json.loads(json.dumps(d))
    assert back["lang"] == "fr" and back["writer"] == "builtin"
    assert back["check"] == {"ok": True, "problems": []}
    assert back["markdown"].startswith("## Conseil de pulvérisation : Les Prés du Ru")
    assert {w["code"] for w in back["warnings"]} >= {"buffers", "reentry", "weather"}


def test_fact_sheet_is_json_and_in_label_units(us_facts):
    d = json.loads(json.dumps(us_facts.as_dict()))
    p = d["products"][0]
    assert (p["rate"], p["rate_unit"], p["total_unit"]) == (32.0, "fl oz/acre", "gal")
    assert abs(p["total"] * 3.785411784 - p["total_canonical"]) < 1e-3
    assert d["area"]["treated_share_pct"] == 25.0
    assert d["buffers"] == [{"product": "Engenia", "kind": "downwind", "distance": 240.0, "unit": "ft",
                             "metres": 73.152}]
    assert d["restrictions"]["rei_h"] == 24.0 and d["restrictions"]["wind_max_mph"] == 10.0
    assert "hours" not in us_facts.prompt_payload()["weather"]
    assert "other_names" not in us_facts.prompt_payload()


def test_optional_summary_fields_are_absent_when_not_given():
    facts = build_fact_sheet(**example_inputs())
    assert facts.economy.tank_loads is None and facts.species[0].control_pct is None
    assert all("tank" not in s for s in builtin_parts(facts, "en").steps)


def test_stage_past_label_limit_is_a_mandatory_warning(fr_facts):
    inputs = {**example_inputs(), "field": {"name": "F", "crop": "soybean", "growth_stage_bbch": 65}}
    from app.advice.examples import dicamba_us
    facts = build_fact_sheet(**{**inputs, "labels": [dicamba_us()],
                                "summary": {**inputs["summary"], "product_total": [4 * 12.8 * FL_OZ_ACRE],
                                            "broadcast_total": [15.5 * 12.8 * FL_OZ_ACRE]}})
    assert "stage_beyond_label" in facts.mandatory_warnings
    warning = dict(builtin_parts(facts, "en").warnings)["stage_beyond_label"]
    assert "past the label limit of BBCH 60" in warning


def test_languages_share_template_keys():
    keys = [set(t) for t in TEMPLATES.values()]
    assert all(k == keys[0] for k in keys)


def test_bad_options_are_refused(fr_facts):
    with pytest.raises(ValueError, match="valid languages"):
        write_advice(fr_facts, lang="de")
    with pytest.raises(ValueError, match="valid writers"):
        write_advice(fr_facts, writer="gpt")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="LLMConfig"):
        write_advice(fr_facts, writer="llm")


def test_check_rejects_a_french_decimal_point(fr_facts):
    parts = builtin_parts(fr_facts, "fr")
    bad = parts.__class__(summary=parts.summary, steps=("Mesotrix 100 : 1.5 L/ha.", *parts.steps[1:]),
                          warnings=parts.warnings)
    assert "wrong_decimal_separator" in {p.code for p in check_answer(bad, fr_facts, "fr").problems}


@pytest.mark.parametrize(("lang", "line"), [("fr", "Prévoir 1 cuve."), ("en", "Plan 1 tank load.")])
def test_one_tank_load_is_singular_and_grounded(lang: str, line: str) -> None:
    from app.advice.examples import mesotrione_fr

    field = {"name": "Les Prés du Ru", "crop": "maize", "growth_stage_bbch": 14, "country": "FR"}
    summary = {"field_area_ha": 12.5, "sprayable_area_ha": 12.0, "treated_area_ha": 3.2, "product_total": [4.8],
               "broadcast_total": [18.0], "saving_pct": [73.3], "control_pct": {"CHEAL": 96.0}, "tank_loads": 1}
    facts = build_fact_sheet(field=field, labels=[mesotrione_fr()], summary=summary, strategy="threshold",
                             species_names={"CHEAL": {"en": "fat hen", "fr": "chénopode blanc"}})
    parts = builtin_parts(facts, lang)
    assert line in parts.steps
    assert check_answer(parts, facts, lang).ok
