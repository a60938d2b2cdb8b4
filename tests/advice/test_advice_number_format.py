import pytest

from app.advice.number_format import LanguageError, format_number, format_percent, parse_number


@pytest.mark.parametrize(("value", "lang", "decimals", "expected"), [
    (1.5, "en", 2, "1.5"),
    (1.5, "fr", 2, "1,5"),
    (2.3386, "en", 2, "2.34"),
    (2.3386, "fr", 2, "2,34"),
    (1234567.891, "en", 1, "1,234,567.9"),
    (1234567.891, "fr", 1, "1\u202f234\u202f567,9"),
    (32.0, "en", 2, "32"),
    (0.004, "fr", 2, "0"),
    (999.96, "en", 1, "1,000"),
    (1234567.891, "de", 1, "1.234.567,9"),
    (2.675, "en", 2, "2.68"),  # one rounding step, half away from zero, on the decimal the reader sees
    (93.47, "fr", 0, "93"),
])
def test_format_number(value, lang, decimals, expected):
    assert format_number(value, lang, decimals) == expected


def test_percent_spacing_differs_by_language():
    # CLDR: no space in English, a no-break space in French and German
    assert format_percent(74.2, "en") == "74%"
    assert format_percent(74.2, "fr") == "74\u00a0%"
    assert format_percent(74.2, "de") == "74\u00a0%"
    assert format_percent(93.47, "en", 1) == "93.5%"


def test_money_is_written_the_same_way_everywhere():
    from app.advice.number_format import format_money

    assert format_money(611.31, "EUR", "en") == "€611"
    assert format_money(611.31, "EUR", "fr") == "611\u00a0€"
    assert format_money(611.31, "EUR", "de") == "611\u00a0€"
    assert format_money(1611.5, "USD", "en") == "$1,612"


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("1\u202f234,5", "fr", 1234.5), ("1 234,5", "fr", 1234.5), ("1,234.5", "en", 1234.5), ("0,5", "fr", 0.5),
    ("1.234,5", "de", 1234.5)])
def test_parse_number_round_trips(text, lang, expected):
    assert parse_number(text, lang) == expected


def test_unknown_language_lists_valid_ones():
    with pytest.raises(LanguageError, match="valid languages: de, en, fr"):
        format_number(1.0, "es")


def test_non_finite_is_refused():
    with pytest.raises(ValueError):
        format_number(float("nan"), "en")
