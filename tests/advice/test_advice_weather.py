from datetime import UTC, date, datetime, timedelta

import pytest
from advice_helpers import CEST, hourly
from pydantic import ValidationError

from app.advice.examples import dicamba_us, glyphosate_us, mesotrione_fr
from app.advice.weather import Forecast, ForecastHour, check_weather, compass_point, sun_times

PARIS = (48.8566, 2.3522)


def _minutes(t: datetime) -> float:
    return t.hour * 60 + t.minute + t.second / 60


@pytest.mark.parametrize(("day", "lat", "lon", "rise_utc", "set_utc"), [
    # Almanac values (timeanddate.com): Paris 05:46 / 21:58 CEST; Des Moines 07:38 / 16:47 CST.
    (date(2024, 6, 21), *PARIS, "03:46", "19:58"),
    (date(2024, 12, 21), 41.5868, -93.625, "13:38", "22:47"),
])
def test_sunrise_and_sunset_within_two_minutes(day, lat, lon, rise_utc, set_utc):
    rise, set_ = sun_times(day, lat, lon)
    for got, want in ((rise, rise_utc), (set_, set_utc)):
        h, m = map(int, want.split(":"))
        assert abs(_minutes(got) - (h * 60 + m)) <= 2


def test_polar_day_has_no_sunrise():
    assert sun_times(date(2024, 6, 21), 78.2, 15.6) == (None, None)


def _one_hour(t: datetime, **kw) -> Forecast:
    return Forecast(lat=PARIS[0], lon=PARIS[1], hours=hourly(t, 1, **kw))


def _codes(verdict) -> set[str]:
    return {r.code for r in verdict.reasons}


def test_good_hour_is_allowed_and_is_a_window():
    fc = _one_hour(datetime(2024, 6, 4, 11, tzinfo=CEST))
    wc = check_weather(fc, [mesotrione_fr()])
    assert wc.hours[0].allowed and wc.hours[0].reasons == ()
    (w,) = wc.windows
    assert (w.start.hour, w.end.hour, w.wind_from, w.downwind_side) == (11, 12, "SW", "NE")


def test_windy_hour_is_refused_naming_the_product():
    wc = check_weather(_one_hour(datetime(2024, 6, 4, 11, tzinfo=CEST), wind_kmh=22.0), [mesotrione_fr()])
    (reason,) = wc.hours[0].reasons
    assert (reason.code, reason.product, reason.limit) == ("too_windy", "Mesotrix 100", 19.0)
    assert wc.windows == ()


def test_calm_clear_dawn_hour_is_refused_for_inversion():
    # Sunrise in Paris on 4 June is about 05:48 CEST; 06:00 is within the hour after it.
    fc = _one_hour(datetime(2024, 6, 4, 6, tzinfo=CEST), wind_kmh=2.0, cloud_pct=10.0)
    assert _codes(check_weather(fc, [mesotrione_fr()]).hours[0]) == {"inversion"}


def test_calm_dawn_under_cloud_or_calm_midday_is_not_an_inversion():
    cloudy = _one_hour(datetime(2024, 6, 4, 6, tzinfo=CEST), wind_kmh=2.0, cloud_pct=80.0)
    midday = _one_hour(datetime(2024, 6, 4, 13, tzinfo=CEST), wind_kmh=2.0, cloud_pct=0.0)
    assert check_weather(cloudy, [mesotrione_fr()]).hours[0].allowed
    assert check_weather(midday, [mesotrione_fr()]).hours[0].allowed


def test_below_label_wind_minimum_is_too_calm():
    fc = _one_hour(datetime(2024, 6, 4, 13, tzinfo=CEST), wind_kmh=3.5)
    assert "too_calm" in _codes(check_weather(fc, [dicamba_us()]).hours[0])


def test_rain_within_rain_free_time_refuses_the_hours_before_it():
    # Dicamba needs 4 dry hours; rain at 15:00 refuses 12:00-15:00 and allows 11:00.
    t0 = datetime(2024, 6, 4, 10, tzinfo=CEST)
    fc = Forecast(lat=PARIS[0], lon=PARIS[1],
                  hours=hourly(t0, 12, rain_mm=lambda i: 2.0 if i == 5 else 0.0))
    wc = check_weather(fc, [dicamba_us()])
    by_hour = {v.time.hour: v for v in wc.hours}
    assert by_hour[11].allowed
    for h in (12, 13, 14):
        assert _codes(by_hour[h]) == {"rain_soon"}
    assert _codes(by_hour[15]) == {"raining", "rain_soon"}
    assert by_hour[16].allowed
    # glyphosate's 0.5 h only cares about the hour itself
    assert check_weather(fc, [glyphosate_us()]).hours[4].allowed


def test_forecast_shorter_than_rain_free_time_is_not_trusted():
    fc = _one_hour(datetime(2024, 6, 4, 13, tzinfo=CEST))
    assert _codes(check_weather(fc, [dicamba_us()]).hours[0]) == {"rain_unknown"}


def test_daylight_only_label_refuses_the_night_and_the_sunrise_hour():
    t0 = datetime(2024, 6, 4, 0, tzinfo=CEST)
    fc = Forecast(lat=PARIS[0], lon=PARIS[1], hours=hourly(t0, 30))
    wc = check_weather(fc, [dicamba_us()])
    night = {v.time.hour for v in wc.hours[:24] if "night" in _codes(v)}
    assert night == {0, 1, 2, 3, 4, 5, 21, 22, 23}  # sunrise 05:48, sunset 21:52 CEST


def test_temperature_limits():
    fc = _one_hour(datetime(2024, 6, 4, 14, tzinfo=CEST), temp_c=31.0)
    assert _codes(check_weather(fc, [mesotrione_fr()]).hours[0]) == {"too_hot"}


def test_every_label_in_the_mix_counts():
    fc = _one_hour(datetime(2024, 6, 4, 14, tzinfo=CEST), wind_kmh=17.0)
    wc = check_weather(fc, [mesotrione_fr(), glyphosate_us()])
    assert [(r.code, r.product) for r in wc.hours[0].reasons] == [("too_windy", "Roundup PowerMAX")]


def test_windows_are_contiguous_runs_with_downwind_buffers():
    t0 = datetime(2024, 6, 4, 9, tzinfo=CEST)
    fc = Forecast(lat=PARIS[0], lon=PARIS[1],
                  hours=hourly(t0, 10, wind_kmh=lambda i: 25.0 if i == 3 else 8.0, wind_dir_deg=270.0))
    wc = check_weather(fc, [glyphosate_us(), dicamba_us()], now=t0 + timedelta(minutes=30))
    assert [(w.start.hour, w.end.hour) for w in wc.windows] == [(9, 12), (13, 16)]  # ends 19:00: 4 h dry
    first = wc.windows[0]
    assert (first.wind_from, first.downwind_side) == ("W", "E")
    assert [(b.product, b.distance, b.unit, round(b.metres, 2)) for b in first.downwind_buffers] == [
        ("Engenia", 240.0, "ft", 73.15)]
    assert wc.refused_by["too_windy"] == 1


def test_now_drops_past_hours():
    t0 = datetime(2024, 6, 4, 9, tzinfo=CEST)
    fc = Forecast(lat=PARIS[0], lon=PARIS[1], hours=hourly(t0, 5))
    assert len(check_weather(fc, [], now=t0 + timedelta(hours=2)).hours) == 3


def test_compass_points():
    got = [compass_point(d) for d in (0, 44, 46, 180, 225, 337, 360)]
    assert got == ["N", "NE", "NE", "S", "SW", "NW", "N"]


def test_naive_times_and_gaps_are_refused():
    with pytest.raises(ValidationError, match="timezone-aware"):
        ForecastHour(time=datetime(2024, 6, 4, 9), wind_kmh=5, wind_dir_deg=0, temp_c=10)
    t0 = datetime(2024, 6, 4, 9, tzinfo=UTC)
    hours = hourly(t0, 3)
    with pytest.raises(ValidationError, match="one hour apart"):
        Forecast(lat=0, lon=0, hours=[hours[0], hours[2]])


# --- issue 13: reasons per ruled-out block, gusts, national default wind, past hours, dates with the year ---

def _silent_label():  # type: ignore[no-untyped-def]
    from app.domain.label import LabelDoc

    return LabelDoc.model_validate({
        "name": "Quiet 1", "country": "FR", "formulation": "liquid",
        "active_ingredients": [{"name": "x", "concentration": 1, "concentration_unit": "g/L"}],
        "hrac_group": "27", "rate_unit": "L/ha", "min_rate": 0.5, "max_rate": 1.0})


def test_gusts_of_48_kmh_are_refused_when_the_label_is_silent() -> None:
    from datetime import datetime as _dt

    from advice_helpers import CEST, hourly

    from app.advice import Forecast, check_weather
    from app.advice.weather import default_wind_max_kmh

    t0 = _dt(2024, 6, 4, 11, tzinfo=CEST)
    fc = Forecast(lat=48.5, lon=2.1, hours=hourly(t0, 3, wind_kmh=12.0, gust_kmh=lambda i: 48.0 if i == 1 else 18.0,
                                                   cloud_pct=60.0))
    wc = check_weather(fc, [_silent_label()], now=t0, country="FR")
    assert wc.wind_max_source == "national_default" and wc.wind_max_kmh == default_wind_max_kmh("FR") == 19.0
    assert [h.allowed for h in wc.hours] == [True, False, True]
    assert [r.code for r in wc.hours[1].reasons] == ["gusty"]
    # mean wind above the national default is refused too, with no label limit to lean on
    windy = Forecast(lat=48.5, lon=2.1, hours=hourly(t0, 1, wind_kmh=25.0, gust_kmh=26.0, cloud_pct=60.0))
    assert [r.code for r in check_weather(windy, [_silent_label()], now=t0, country="FR").hours[0].reasons] \
        == ["too_windy"]


def test_past_hours_are_ignored_and_a_stale_forecast_says_so() -> None:
    from datetime import datetime as _dt
    from datetime import timedelta as _td

    from advice_helpers import CEST, hourly

    from app.advice import Forecast, build_fact_sheet, check_answer
    from app.advice.builtin import builtin_parts
    from app.advice.examples import mesotrione_fr

    t0 = _dt(2024, 6, 12, 0, tzinfo=CEST)
    fc = Forecast(lat=48.5, lon=2.1, hours=hourly(t0, 24, cloud_pct=60.0))
    field = {"name": "F", "crop": "maize", "growth_stage_bbch": 14, "country": "FR"}
    summary = {"field_area_ha": 10.0, "treated_area_ha": 2.0, "product_total": [3.0], "broadcast_total": [15.0],
               "saving_pct": [80.0]}
    half = build_fact_sheet(field=field, labels=[mesotrione_fr()], summary=summary, strategy="threshold",
                            forecast=fc, now=t0 + _td(hours=12, minutes=30))
    assert half.weather is not None and half.weather.skipped_past_hours == 12
    assert half.weather.hours[0].time == t0 + _td(hours=12)
    # the same forecast read months later: nothing in it is a window any more
    late = build_fact_sheet(field=field, labels=[mesotrione_fr()], summary=summary, strategy="threshold",
                            forecast=fc, now=_dt(2026, 12, 1, 12, tzinfo=CEST))
    assert late.weather is not None and late.weather.hours == () and late.weather.windows == ()
    for lang, words in {"en": "Thu, Jun 13, 2024", "fr": "jeu. 13 juin 2024", "de": "Do., 13. Juni 2024"}.items():
        parts = builtin_parts(late, lang)
        stale = next(s for s in parts.steps if words in s)
        assert "2024" in stale
        assert check_answer(parts, late, lang).ok, check_answer(parts, late, lang).problems
    # this week's dates carry no year; later ones do
    near = builtin_parts(half, "en")
    window = next(s for s in near.steps if s.startswith("Next spray window"))
    assert "Wed, Jun 12 12:00" in window and "2024" not in window


def test_every_ruled_out_block_has_its_reason(fr_facts) -> None:  # type: ignore[no-untyped-def]
    wc = fr_facts.weather
    assert wc is not None
    assert [(b.start.hour, b.end.hour, b.reasons) for b in wc.refused_blocks] == [
        (0, 7, ("inversion",)), (15, 0, ("too_windy",))]
    # every refused hour lies in exactly one block, every allowed hour in none
    refused = {h.time for h in wc.hours if not h.allowed}
    covered = {b.start + timedelta(hours=i) for b in wc.refused_blocks for i in range(b.hours)}
    assert refused == covered
