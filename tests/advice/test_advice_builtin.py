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
        "Mesotrix 100\u00a0: 1,5 L/ha sur la zone traitée (maximum autorisé 1,5 L/ha).")
    assert builtin_parts(fr_facts, "en").steps[0] == (
        "Mesotrix 100: 1.5 L/ha on the treated area (label maximum 1.5 L/ha).")


def test_key_lines_fr(fr_facts):
    parts = builtin_parts(fr_facts, "fr")
    # French typography from CLDR: no-break space before ":" and "%", narrow no-break space before ";"
    assert parts.summary == (
        "Les Prés du Ru (maïs, BBCH 14)\u00a0: traiter localement 3,2 ha sur 12,5 ha (26\u00a0%) "
        "avec Mesotrix 100."
        " Soit 73\u00a0% de produit en moins qu’un traitement en plein.")
    assert parts.steps[1] == (
        "Total Mesotrix 100\u00a0: 4,8 L, contre 18 L en plein\u00a0: 13,2 L économisés (73\u00a0%), soit 528\u00a0€.")
    assert parts.steps[2].startswith("Plan de cuve\u00a0: 1 cuve, cuve de 3\u202f000 L à 150 L par ha")
    assert parts.steps[3] == ("Cuve unique\u00a0: 480 L de bouillie, soit 475 L d’eau + 4,8 L Mesotrix 100\u202f; "
                              "elle traite 3,2 ha.")
    assert parts.steps[5] == "Adventices trouvées\u00a0: chénopode blanc (CHEAL)\u00a0: efficacité attendue 96\u00a0%."
    assert parts.steps[6] == ("Prochain créneau de traitement\u00a0: mar. 4 juin 07:00–15:00, vent de SO "
                              "à 2–10 km/h\u00a0: le côté sous le vent est NE.")
    # every ruled-out block says why
    assert parts.steps[7] == ("Exclu\u00a0: mar. 4 juin 00:00–07:00 (risque d’inversion)\u202f; "
                              "15:00–00:00 (trop de vent).")
    warnings = dict(parts.warnings)
    assert warnings["buffers"] == ("Les zones non traitées laissent 0,5 ha de la parcelle sans traitement\u00a0: "
                                   "5 m des points d’eau (Mesotrix 100)\u00a0: protège l’eau de la pulvérisation.")
    assert warnings["reentry"].startswith("Délai de rentrée\u00a0: personne dans la zone traitée pendant 6 h")
    assert "uniquement jamais" not in warnings["weather"]
    assert warnings["weather"].endswith("Ne jamais traiter pendant une inversion de température (soir, nuit ou "
                                        "petit matin calmes et dégagés).")


def test_key_lines_en_us(us_facts):
    parts = builtin_parts(us_facts, "en")
    assert parts.summary.startswith("North 40 (soybean, BBCH 14): spot-spray 9.88 acres (4 ha) of 39.54 acres (16 ha)")
    assert parts.steps[2] == ("Total Roundup PowerMAX: 2.47 gal (9.35 L), against 9.58 gal for a broadcast: "
                              "7.1 gal saved (74%), worth $175.")
    assert parts.steps[4].startswith("Tank plan: 1 tank load, with a 793 gal tank at 16 gal per acre")
    # 316 fl oz is more than a gallon: written in gallons (2.47 gal), the smaller amount in fl oz
    assert parts.steps[5] == ("The only tank: 159 gal of mix, that is 155 gal of water + 2.47 gal Roundup PowerMAX "
                              "and 126.52 fl oz Engenia; it sprays 9.88 acres.")
    warnings = dict(parts.warnings)
    assert warnings["buffers"] == (
        "No-spray buffers leave 1.24 acres (0.5 ha) of the field unsprayed: 240 ft (73 m) downwind (Engenia), laid "
        "all round the field because no wind direction was given: give the wind direction when you prescribe to "
        "spray more of the field.")
    assert warnings["weather"].startswith(
        "Weather: spray only with wind between 3 mph (5 km/h) and 10 mph (16 km/h), with gusts at or below 15 mph "
        "(24 km/h), when no rain is expected for 4 h after spraying and between sunrise and sunset. Never spray in "
        "a temperature inversion")
    window = next(s for s in parts.steps if s.startswith("Next spray window"))
    assert window.endswith(
        "wind from SW at 6 mph (10 km/h): the downwind side is NE. Keep 240 ft (73 m) on the NE side.")
    assert "Group 9 (glyphosate) resistant amaranth" in warnings["resistance"]
    assert warnings["below_target"].startswith(
        "Below the control target: Palmer amaranth (AMAPA) not controlled by this mix (target 90%).")


def test_builtin_is_deterministic_and_grounded(us_facts, fr_facts):
    for facts in (us_facts, fr_facts):
        for lang in ("en", "fr", "de"):
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
    assert back["markdown"].startswith("## Conseil de pulvérisation\u00a0: Les Prés du Ru")
    assert {w["code"] for w in back["warnings"]} >= {"buffers", "reentry", "weather"}


def test_fact_sheet_is_json_and_in_label_units(us_facts):
    d = json.loads(json.dumps(us_facts.as_dict()))
    p = d["products"][0]
    assert (p["rate"], p["rate_unit"], p["total_unit"]) == (32.0, "fl oz/acre", "gal")
    assert abs(p["total"] * 3.785411784 - p["total_canonical"]) < 1e-3
    assert d["area"]["treated_share_pct"] == 25.0
    assert d["buffers"] == [{"product": "Engenia", "kind": "downwind", "distance": 240.0, "unit": "ft",
                             "metres": 73.152, "all_round": True}]
    assert d["restrictions"]["rei_h"] == 24.0 and d["restrictions"]["wind_max_mph"] == 10.0
    assert "hours" not in us_facts.prompt_payload()["weather"]
    assert "other_names" not in us_facts.prompt_payload()


def test_optional_summary_fields_are_absent_when_not_given():
    facts = build_fact_sheet(**example_inputs())
    assert facts.species[0].control_pct is None and facts.species[0].below_target
    # no sprayer given: the default 3000 L tank and 150 L/ha carrier still give a tank plan
    assert facts.tank_plan is not None and facts.tank_plan.tank_volume_l == 3000.0
    assert facts.economy.yield_cost is None


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
    with pytest.raises(ValueError, match="valid languages: de, en, fr"):
        write_advice(fr_facts, lang="es")
    with pytest.raises(ValueError, match="valid writers"):
        write_advice(fr_facts, writer="gpt")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="LLMConfig"):
        write_advice(fr_facts, writer="llm")


def test_check_rejects_a_french_decimal_point(fr_facts):
    parts = builtin_parts(fr_facts, "fr")
    bad = parts.__class__(summary=parts.summary, steps=("Mesotrix 100 : 1.5 L/ha.", *parts.steps[1:]),
                          warnings=parts.warnings)
    assert "wrong_decimal_separator" in {p.code for p in check_answer(bad, fr_facts, "fr").problems}


@pytest.mark.parametrize(("lang", "line"), [
    ("fr", "Plan de cuve\u00a0: 2 cuves, cuve de 3\u202f000 L à 150 L par ha"),
    ("en", "Tank plan: 2 tank loads, with a 3,000 L tank at 150 L per ha"),
    ("de", "Tankplan: 2 Tankfüllungen, Tankgröße 3.000 L, bei 150 L Brühe je Hektar")])
def test_tank_plan_full_and_last_tank_add_up(lang: str, line: str) -> None:
    """36 ha at 150 L/ha = 5400 L: one full 3000 L tank (20 ha) and a last tank of 2400 L (16 ha)."""
    from app.advice.examples import mesotrione_fr

    field = {"name": "Les Prés du Ru", "crop": "maize", "growth_stage_bbch": 14, "country": "FR"}
    summary = {"field_area_ha": 40.0, "sprayable_area_ha": 39.0, "treated_area_ha": 36.0, "product_total": [54.0],
               "broadcast_total": [58.5], "saving_pct": [7.7], "spray_volume_l": 5400.0}
    facts = build_fact_sheet(field=field, labels=[mesotrione_fr()], summary=summary, strategy="threshold",
                             sprayer={"tank_l": 3000.0, "carrier_l_ha": 150.0})
    plan = facts.tank_plan
    assert plan is not None and plan.loads == 2 and plan.full_tanks == 1
    assert plan.full_tank is not None and plan.last_tank is not None
    assert (plan.full_tank.area, plan.full_tank.products[0].amount, plan.full_tank.water) == (20.0, 30.0, 2970.0)
    assert (plan.last_tank.area, plan.last_tank.products[0].amount, plan.last_tank.water) == (16.0, 24.0, 2376.0)
    assert plan.total_products[0].amount == 54.0 and plan.total_water == 5346.0
    parts = builtin_parts(facts, lang)
    assert any(s.startswith(line) for s in parts.steps), parts.steps
    text = "\n".join(parts.steps)
    for number in ({"en": "2,970 L", "fr": "2\u202f970 L", "de": "2.970 L"}[lang],
                   {"en": "2,376 L", "fr": "2\u202f376 L", "de": "2.376 L"}[lang]):
        assert number in text
    assert check_answer(parts, facts, lang).ok, check_answer(parts, facts, lang).problems


def test_tank_plan_in_us_units_for_a_us_field() -> None:
    """200 acres at 15 gal/acre = 3000 gal; a 1000 gal tank takes exactly 3 loads of 66.67 acres each."""
    from app.advice.examples import glyphosate_us

    acre = 0.40468564224
    gal = 3.785411784
    treated_ha = 200 * acre
    total_l = treated_ha * 32 * 0.07308  # 32 fl oz/acre of Roundup PowerMAX
    summary = {"field_area_ha": treated_ha, "sprayable_area_ha": treated_ha, "treated_area_ha": treated_ha,
               "product_total": [total_l], "broadcast_total": [total_l], "saving_pct": [0.0],
               "spray_volume_l": 3000 * gal}
    facts = build_fact_sheet(field={"name": "Home 200", "crop": "soybean", "country": "US"},
                             labels=[glyphosate_us()], summary=summary, strategy="broadcast",
                             sprayer={"tank_l": 1000 * gal})
    plan = facts.tank_plan
    assert plan is not None and plan.unit_system == "us" and plan.volume_unit == "gal"
    assert (plan.loads, plan.full_tanks, plan.last_tank) == (3, 3, None)
    assert plan.full_tank is not None and abs(plan.full_tank.area - 200 / 3) < 1e-3
    # 32 fl oz/acre x 66.67 acres = 2133 fl oz = 16.67 gal a tank (the dosing factor 0.07308 L/ha is rounded: 0.1 %)
    assert plan.full_tank.products[0].unit == "gal"
    assert abs(plan.full_tank.products[0].amount - 32 * 200 / 3 / 128) < 0.002 * 32 * 200 / 3 / 128
    parts = builtin_parts(facts, "en")
    assert any(s.startswith("Each of the 3 full tanks: ") and "sprays 66.67 acres" in s for s in parts.steps)
    assert check_answer(parts, facts, "en").ok
    metric = build_fact_sheet(field={"name": "Home 200", "crop": "soybean", "country": "US"},
                              labels=[glyphosate_us()], summary=summary, strategy="broadcast",
                              sprayer={"tank_l": 1000 * gal}, unit_system="metric")
    assert metric.tank_plan is not None and metric.tank_plan.volume_unit == "L" and metric.units == "metric"


@pytest.mark.parametrize(("lang", "shown"), [("en", "93%"), ("fr", "93\u00a0%"), ("de", "93\u00a0%")])
def test_control_is_rounded_once(lang: str, shown: str) -> None:
    """93.47 % reads 93 % (as on the map), not 94 % after a first rounding to 93.5."""
    from app.advice.examples import mesotrione_fr

    summary = {"field_area_ha": 10.0, "treated_area_ha": 2.0, "product_total": [3.0], "broadcast_total": [15.0],
               "saving_pct": [80.0], "species": ["CHEAL"], "control_pct": [93.47]}
    facts = build_fact_sheet(field={"name": "F", "crop": "maize", "country": "FR"}, labels=[mesotrione_fr()],
                             summary=summary, strategy="threshold",
                             species_names={"CHEAL": {"en": "fat hen", "fr": "chénopode blanc", "de": "Gänsefuß"}})
    line = next(s for s in builtin_parts(facts, lang).steps if "CHEAL" in s)
    assert line.endswith(f"{shown}."), line
