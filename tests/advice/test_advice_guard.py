"""The guard's parts one by one: numbers tied to roles, units, prose rules, names, language."""

from __future__ import annotations

import pytest
from advice_helpers import make_fr_facts
from hypothesis import given, settings
from hypothesis import strategies as st

from app.advice.builtin import AdviceParts
from app.advice.fact_text import fact_table, fill
from app.advice.grounding import check_answer, quantities_in, same_value
from app.advice.language import guess_language, language_problem
from app.advice.names import name_index, normalize, unknown_names
from app.advice.safety import unsafe_instructions


def _check(facts, text: str, lang: str = "en"):  # type: ignore[no-untyped-def]
    parts = AdviceParts(summary="{field}: spray {treated_area} with {product.1}.",
                        steps=("Apply {rate.1} on the patches.", text), warnings=())
    return check_answer(parts, facts, lang, warnings_from_writer=False)


@pytest.mark.parametrize("value, decimals, fact, kind, same", [
    (2, 0, 1.5, "rate", False),        # no ±0.5 slack on whole numbers
    (13, 0, 12.8, "rate", False),
    (12.8, 1, 12.8, "rate", True),
    (2.34, 2, 2.3385, "rate", True),   # the service writes 2.34 for 2.3385
    (2.3, 1, 2.3385, "rate", False),   # less precise than the service
    (73, 0, 73.3, "pct", True),        # percentages are written whole
    (1, 0, 6, "h", False),
    (5, 0, 4.828, "kmh", True),
])
def test_full_precision(value: float, decimals: int, fact: float, kind: str, same: bool) -> None:
    assert same_value(value, decimals, fact, kind) is same


@pytest.mark.parametrize("text, lang, expected", [
    ("Apply 1.5 litres per hectare.", "en", [(1.5, "L/ha")]),
    ("Keep a 5-metre strip.", "en", [(5.0, "m")]),
    ("a 6-hour wait", "en", [(6.0, "h")]),
    ("wind below 19 kph", "en", [(19.0, "km/h")]),
    ("a three-metre strip", "en", [(3.0, "m")]),
    ("1,5 litre par hectare", "fr", [(1.5, "L/ha")]),
    ("trois mètres", "fr", [(3.0, "m")]),
    ("1,5 l/ha und drei Meter, 6 Stunden", "de", [(1.5, "L/ha"), (3.0, "m"), (6.0, "h")]),
    ("between 3 and 10 mph", "en", [(3.0, "mph"), (10.0, "mph")]),
])
def test_units_and_number_words(text: str, lang: str, expected: list[tuple[float, str]]) -> None:
    assert [(q.value, q.unit) for q in quantities_in(text, lang)] == expected


def test_hours_are_tied_to_their_role(fr_facts) -> None:  # type: ignore[no-untyped-def]
    refused = _check(fr_facts, "Keep people out for 6 h; after 1 h they may walk the headland.")
    assert [(p.code, p.rule) for p in refused.problems] == [("number_not_in_facts", "reentry")]
    assert _check(fr_facts, "Inversions are likely from 1 h before sunset.").ok
    assert not _check(fr_facts, "Keep people out of the field for 1 h.").ok
    assert _check(fr_facts, "Keep people out of the field for 6 h.").ok


def test_rates_are_tied_to_their_product(us_facts) -> None:  # type: ignore[no-untyped-def]
    parts = AdviceParts(summary="{field}", steps=("Apply {rate.1} and {rate.2}.",
                                                  "Engenia goes on at 32 fl oz/acre."), warnings=())
    check = check_answer(parts, us_facts, "en", warnings_from_writer=False)
    assert [p.code for p in check.problems] == ["rate_above_label"]  # Engenia's maximum is 12.8


def test_control_is_tied_to_its_weed(fr_facts) -> None:  # type: ignore[no-untyped-def]
    assert _check(fr_facts, "Fat hen: expected control 96%.").ok
    assert not _check(fr_facts, "Fat hen: expected control 73%.").ok  # 73 % is the saving


def test_times_must_be_one_window(fr_facts) -> None:  # type: ignore[no-untyped-def]
    assert _check(fr_facts, "Spray between 07:00 and 15:00.").ok
    assert not _check(fr_facts, "Spray between 07:00 and 14:00.").ok
    assert not _check(fr_facts, "Start at 09:00.").ok


def test_missing_rate_and_unknown_placeholder(fr_facts) -> None:  # type: ignore[no-untyped-def]
    parts = AdviceParts(summary="{field}: spray {dose.1}.", steps=("Spray { rate.1 }.",), warnings=())
    codes = [p.code for p in check_answer(parts, fr_facts, "en", warnings_from_writer=False).problems]
    assert codes.count("unknown_fact") == 2 and "missing_fact" in codes


def test_fill_uses_the_service_wording_per_language(fr_facts) -> None:  # type: ignore[no-untyped-def]
    for lang, rate in (("en", "1.5 L/ha"), ("fr", "1,5 L/ha"), ("de", "1,5 L/ha")):
        text, unknown = fill("{rate.1} / {reentry} / {nope}", fact_table(fr_facts, lang))
        assert text == f"{rate} / 6 h / {{nope}}" and unknown == ["nope"]


_FR_FACTS = make_fr_facts()


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(min_value=1.5001, max_value=40.0), decimals=st.integers(0, 3))
def test_no_rate_above_the_label_is_accepted(rate: float, decimals: int) -> None:
    fr_facts = _FR_FACTS
    written = f"{rate:.{decimals}f}"
    if float(written) <= 1.5:
        return  # rounds down to the maximum: that is the maximum
    check = _check(fr_facts, f"On dense patches apply {written} L/ha.")
    assert not check.ok and check.problems[0].code == "rate_above_label"


@pytest.mark.parametrize("text, rule", [
    ("You can exceed the label rate if weeds are dense.", "exceed_label"),
    ("It is not a problem to exceed the rate.", "exceed_label"),
    ("Never exceed the label rate.", None),
    ("Where weeds are dense, double the rate.", "double_rate"),
    ("Never double the rate.", None),
    ("Apply it twice on dense patches.", "repeat_application"),
    ("Do not spray twice.", None),
    ("Spraying near the stream is fine.", "permissive_water"),
    ("It is not safe to spray near the stream.", None),
    ("No buffer is needed; spray up to the water's edge.", "no_buffer"),
    ("Spray right up to the ditch so no weeds escape.", "no_buffer"),
    ("Never spray up to the water's edge.", None),
    ("Buffers: 5 m — not needed today.", "no_buffer"),
    ("It is safe to spray in any wind.", "any_wind"),
    ("Wind up to 19 km/h is fine.", None),
    ("Strong wind is fine.", "any_wind"),
    ("Drift is no problem here.", "permissive_wind"),
    ("Spray even if it rains.", "ignore_rain"),
    ("After 1 h gloves are enough.", "early_reentry"),
    ("Children can play in the field right after spraying.", "early_reentry"),
    ("Harvest can start the next day.", "ignore_harvest_interval"),
    ("Evening calm is ideal for spraying.", "inversion_or_night"),
    ("Vous pouvez dépasser la dose.", "exceed_label"),
    ("Ne dépassez jamais la dose.", None),
    ("Doublez la dose sur les zones denses.", "double_rate"),
    ("Repasser une semaine plus tard.", "repeat_application"),
    ("Ne repassez pas.", None),
    ("Pas besoin de ZNT aujourd’hui.", "no_buffer"),
    ("La ZNT n’est pas nécessaire par temps sec.", "no_buffer"),
    ("Traiter près du ruisseau ne pose pas de problème.", "permissive_water"),
    ("On peut traiter par tout vent.", "any_wind"),
    ("Traiter même s’il pleut.", "ignore_rain"),
    ("Des gants suffisent après 1 h.", "early_reentry"),
    ("Die Aufwandmenge darf überschritten werden.", "exceed_label"),
    ("Überschreiten Sie die Aufwandmenge nicht.", None),
    ("Die Dosis verdoppeln.", "double_rate"),
    ("Zweimal spritzen.", "repeat_application"),
    ("Nicht zweimal spritzen.", None),
    ("Kein Abstand nötig.", "no_buffer"),
    ("Spritzen am Bach ist kein Problem.", "permissive_water"),
    ("Bei jedem Wind spritzen.", "any_wind"),
    ("Auch bei Regen spritzen.", "ignore_rain"),
    ("Nach einer Stunde reichen Handschuhe.", "early_reentry"),
    ("Das Feld darf sofort wieder betreten werden.", "early_reentry"),
    ("Traiter uniquement avec un vent inférieur ou égal à 19 km/h.", None),  # "égal" is not German "egal"
])
def test_prose_rules(text: str, rule: str | None) -> None:
    found = [v.rule for v in unsafe_instructions(text)]
    assert (found[:1] == [rule]) if rule else found == [], found


def test_names_are_accent_insensitive_and_resolve_to_one_thing(fr_facts, us_facts) -> None:  # type: ignore[no-untyped-def]
    assert normalize("Mésotrione") == normalize("mesotrione") == "mesotrione"
    index = name_index(facts=fr_facts)
    assert unknown_names("Mesotrix 100 (mesotrione, MÉSOTRIONE, Mesotrion) on CHEAL.", fr_facts, index) == []
    assert unknown_names("It also controls wild oat, Flughafer and chardon des champs.", fr_facts, index) == [
        "wild oat", "Flughafer", "chardon des champs"]
    assert unknown_names("Add Atlantis OD or Liberty 280 SL.", fr_facts, index) == ["Atlantis OD", "Liberty 280 SL"]
    assert unknown_names("Add Zorro 500 SC and some pinoxaden.", fr_facts, index) == ["pinoxaden", "Zorro"]
    # a genus name is fine when one of its species was found (Palmer amaranth in the US facts)
    assert unknown_names("Check the pigweed a week later.", us_facts, name_index(facts=us_facts)) == []
    assert unknown_names("Check the pigweed a week later.", fr_facts, index) == ["pigweed"]


def test_organisation_labels_are_names_too(fr_facts) -> None:  # type: ignore[no-untyped-def]
    index = name_index(extra_products=["Kartouche Gold 250 EC"], facts=fr_facts)
    assert unknown_names("Kartouche Gold works too.", fr_facts, index) == ["Kartouche Gold"]


@pytest.mark.parametrize("text, lang", [
    ("Spray the patches only when the wind is below the limit and keep away from the water.", "en"),
    ("Traiter les zones seulement si le vent reste sous la limite et rester loin de l’eau.", "fr"),
    ("Die Stellen nur behandeln, wenn der Wind unter der Grenze bleibt, und Abstand zum Wasser halten.", "de"),
])
def test_language_guess(text: str, lang: str) -> None:
    assert guess_language(text).lang == lang
    assert language_problem(text, lang) is None
    other = "fr" if lang != "fr" else "en"
    assert "not " + other in (language_problem(text, other) or "")


def test_short_text_is_not_judged() -> None:
    assert guess_language("{rate.1} Mesotrix 100").lang is None and language_problem("OK.", "fr") is None


@pytest.mark.parametrize("text, ok", [
    ("Keep people out of the field for {reentry}.", True),
    ("Keep people out of the field for {rain_free}.", False),
    ("No rain for {rain_free} after spraying.", True),
    ("Do not harvest within {harvest_interval}.", True),
    ("Do not harvest within {reentry}.", False),
    ("Fat hen: expected control {control.CHEAL}.", True),
])
def test_placeholders_sit_where_their_fact_belongs(fr_facts, text: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    check = _check(fr_facts, text)
    assert check.ok is ok, check.problems
    if not ok:
        assert [p.code for p in check.problems] == ["wrong_fact"]


def test_another_products_rate_placeholder_is_refused(us_facts) -> None:  # type: ignore[no-untyped-def]
    parts = AdviceParts(summary="{field}", steps=("Roundup PowerMAX at {rate.1}, Engenia at {rate.1}.",
                                                  "Then {rate.2}."), warnings=())
    problems = check_answer(parts, us_facts, "en", warnings_from_writer=False).problems
    assert [(p.code, p.rule) for p in problems] == [("wrong_fact", "rate")]


@pytest.mark.parametrize("text, ok", [
    ("On dense patches Mesotrix 100 can go to 2.", False),      # a dose, not a count
    ("Mesotrix 100 needs 2 passes of the boom at most.", True),  # a count up to 10 passes
    ("On dense patches the dose can go to 2.5.", False),        # a rate that forgot its unit
    ("Apply 1.5 on the patches.", True),                        # the rate itself
    ("The maize is at BBCH 14.", True),
    ("Expect about 37 weeds per patch.", False),                 # no number of the facts
])
def test_numbers_without_units(fr_facts, text: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    check = _check(fr_facts, text)
    assert check.ok is ok, check.problems


def test_names_with_digits_and_units_are_no_quantities() -> None:
    from app.advice.builtin import builtin_parts
    from app.advice.examples import example_inputs
    from app.advice.facts import build_fact_sheet
    from app.domain.label import LabelDoc
    from app.species import DATA_DIR

    label = LabelDoc.model_validate_json((DATA_DIR / "labels" / "atrazine-4l.json").read_text())
    inputs = example_inputs()
    facts = build_fact_sheet(**{**inputs, "labels": [label], "field": {**inputs["field"], "crop": "maize"}})
    assert "4L" in facts.products[0].name
    parts = builtin_parts(facts, "en")
    assert check_answer(parts, facts, "en").ok
    extra = AdviceParts(parts.summary, (*parts.steps, f"{label.name} works on broadleaf weeds."), parts.warnings)
    assert check_answer(extra, facts, "en").ok
