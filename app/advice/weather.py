"""Spray windows from an hourly forecast and the weather limits of every label in a mix.

An hour is allowed when no label in the mix forbids it. Reasons (codes, so any
language can word them):

``too_windy``   mean wind above a label's ``wind_max_kmh``, or above the national
                default (:data:`DEFAULT_WIND_MAX_KMH`) when no label in the mix sets one;
``gusty``       gusts above :data:`GUST_FACTOR` times that wind limit (a label's
                mean-wind limit means little in 48 km/h gusts);
``too_calm``    wind below a label's ``wind_min_kmh``;
``inversion``   wind below 3 km/h with at most 25 % cloud from 1 h before
                sunset to 1 h after sunrise (DOMAIN.md section 6);
``raining``     rain in the hour itself;
``rain_soon``   rain within a label's rain-free time after spraying;
``rain_unknown`` the forecast ends before a label's rain-free time does;
``too_cold`` / ``too_hot``  outside a label's temperature limits;
``night``       a daylight-only label and an hour not wholly between sunrise and sunset.

Sunrise and sunset come from the NOAA solar-position equations (Spencer's
series for the equation of time and declination, solar zenith 90.833° for
refraction and the sun's radius); they are good to a minute or two between the
polar circles, and ``None`` on days the sun never rises or sets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.domain.label import LabelDoc

INVERSION_WIND_KMH = 3.0
INVERSION_MAX_CLOUD_PCT = 25.0
INVERSION_MARGIN = timedelta(hours=1)
# Mean-wind limits when no label in the mix sets one, km/h. FR: arrêté du 4 mai 2017 (no spraying
# above 3 Beaufort, 19 km/h); US: 10 mph, the usual label limit (DOMAIN.md section 6); GB: the
# Code of Practice's "force 3" (19 km/h); DE: the JKI good-practice 5 m/s (18 km/h). Others: 19.
DEFAULT_WIND_MAX_KMH: dict[str, float] = {"FR": 19.0, "US": 16.1, "GB": 19.0, "DE": 18.0}
FALLBACK_WIND_MAX_KMH = 19.0
# Gusts may exceed the mean-wind limit by half before the hour is refused (the service's rule:
# labels limit the mean wind, and gusts of 1.5x the mean are ordinary turbulence).
GUST_FACTOR = 1.5
RAIN_MIN_MM = 0.1  # less than this in an hour counts as dry (forecast trace values)
_HOUR = timedelta(hours=1)
_ZENITH_DEG = 90.833
COMPASS_POINTS: tuple[str, ...] = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ForecastHour(_Frozen):
    """One forecast hour, starting at ``time`` (timezone-aware)."""

    time: datetime
    wind_kmh: float = Field(ge=0, le=500)
    wind_dir_deg: float = Field(ge=0, le=360, description="direction the wind blows FROM")
    gust_kmh: float | None = Field(default=None, ge=0, le=500)
    temp_c: float = Field(ge=-90, le=60, description="air temperature, °C")
    rain_mm: float = Field(default=0.0, ge=0, le=500)
    cloud_pct: float = Field(default=0.0, ge=0, le=100)

    @field_validator("time")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("time must be timezone-aware, e.g. 2024-06-04T09:00+02:00")
        return v


class Forecast(_Frozen):
    """An hourly forecast at one place (WGS84 degrees), hours in order and one hour apart."""

    # At the FieldCreate example's field.
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [{
        "lat": 48.5008, "lon": 2.101, "hours": [
            {"time": "2026-05-03T06:00:00Z", "wind_kmh": 6, "wind_dir_deg": 240, "temp_c": 11, "cloud_pct": 60},
            {"time": "2026-05-03T07:00:00Z", "wind_kmh": 8, "wind_dir_deg": 250, "temp_c": 13, "cloud_pct": 50},
            {"time": "2026-05-03T08:00:00Z", "wind_kmh": 11, "wind_dir_deg": 250, "gust_kmh": 18, "temp_c": 15,
             "rain_mm": 0, "cloud_pct": 40}]}]})

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    hours: tuple[ForecastHour, ...] = Field(min_length=1, max_length=24 * 16)

    @model_validator(mode="after")
    def _hourly(self) -> Forecast:
        for a, b in zip(self.hours, self.hours[1:], strict=False):
            if b.time - a.time != _HOUR:
                raise ValueError(f"forecast hours must be one hour apart: {a.time} then {b.time}")
        return self


def sun_times(day: date, lat: float, lon: float) -> tuple[datetime | None, datetime | None]:
    """Sunrise and sunset (UTC) on ``day`` at ``lat``/``lon`` degrees; ``None`` if the sun never crosses.

    >>> rise, set_ = sun_times(date(2024, 6, 21), 48.8566, 2.3522)   # Paris
    >>> rise.strftime("%H:%M"), set_.strftime("%H:%M")  # UTC; almanacs give 05:46 and 21:58 CEST
    ('03:46', '19:57')
    """
    doy = day.timetuple().tm_yday
    gamma = 2.0 * math.pi / 365.0 * (doy - 1)  # fractional year at noon, radians
    eqtime = 229.18 * (0.000075 + 0.001868 * math.cos(gamma) - 0.032077 * math.sin(gamma)
                       - 0.014615 * math.cos(2 * gamma) - 0.040849 * math.sin(2 * gamma))
    decl = (0.006918 - 0.399912 * math.cos(gamma) + 0.070257 * math.sin(gamma)
            - 0.006758 * math.cos(2 * gamma) + 0.000907 * math.sin(2 * gamma)
            - 0.002697 * math.cos(3 * gamma) + 0.00148 * math.sin(3 * gamma))
    phi = math.radians(lat)
    cos_ha = (math.cos(math.radians(_ZENITH_DEG)) / (math.cos(phi) * math.cos(decl))
              - math.tan(phi) * math.tan(decl))
    if not -1.0 <= cos_ha <= 1.0:
        return None, None
    ha_deg = math.degrees(math.acos(cos_ha))
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    rise_min = 720.0 - 4.0 * (lon + ha_deg) - eqtime
    set_min = 720.0 - 4.0 * (lon - ha_deg) - eqtime
    return midnight + timedelta(minutes=rise_min), midnight + timedelta(minutes=set_min)


def _sun_is_up_all_day(day: date, lat: float) -> bool:
    # Polar day when the sun is in the same hemisphere as the place (declination sign).
    gamma = 2.0 * math.pi / 365.0 * (day.timetuple().tm_yday - 1)
    decl = 0.006918 - 0.399912 * math.cos(gamma) + 0.070257 * math.sin(gamma)
    return (decl > 0) == (lat > 0)


def compass_point(deg: float) -> str:
    """The nearest of the eight compass points to a bearing in degrees.

    >>> compass_point(225), compass_point(350)
    ('SW', 'N')
    """
    return COMPASS_POINTS[int(((deg % 360) + 22.5) // 45) % 8]


def default_wind_max_kmh(country: str | None) -> float:
    """The national mean-wind limit (km/h) that holds when no label sets one.

    >>> default_wind_max_kmh("FR"), default_wind_max_kmh(None)
    (19.0, 19.0)
    """
    return DEFAULT_WIND_MAX_KMH.get((country or "").upper(), FALLBACK_WIND_MAX_KMH)


class HourReason(_Frozen):
    """Why an hour is refused; ``product`` is the label that forbids it (``None``: general rule)."""

    code: str
    product: str | None = None
    limit: float | None = None


class HourVerdict(_Frozen):
    time: datetime
    allowed: bool
    reasons: tuple[HourReason, ...] = ()
    wind_kmh: float
    wind_dir_deg: float
    gust_kmh: float | None = None
    temp_c: float
    rain_mm: float
    cloud_pct: float


class DownwindBuffer(_Frozen):
    product: str
    distance: float
    unit: str
    metres: float


class SprayWindow(_Frozen):
    """Contiguous allowed hours ``[start, end)`` and the field side the wind blows towards."""

    start: datetime
    end: datetime
    hours: int
    wind_kmh_min: float
    wind_kmh_max: float
    wind_from_deg: float
    wind_from: str
    downwind_side: str
    downwind_buffers: tuple[DownwindBuffer, ...] = ()


class RefusedBlock(_Frozen):
    """Contiguous refused hours ``[start, end)`` sharing the same reasons (codes, most frequent first)."""

    start: datetime
    end: datetime
    hours: int
    reasons: tuple[str, ...]
    products: tuple[str, ...] = ()


class SunDay(_Frozen):
    date: date
    sunrise: datetime | None
    sunset: datetime | None


class WeatherCheck(_Frozen):
    """Every forecast hour judged against every label, and the windows that result."""

    lat: float
    lon: float
    hours: tuple[HourVerdict, ...]
    windows: tuple[SprayWindow, ...]
    sun: tuple[SunDay, ...]
    refused_by: dict[str, int] = Field(description="reason code → number of refused hours")
    refused_blocks: tuple[RefusedBlock, ...] = ()
    wind_max_kmh: float | None = Field(default=None, description="the mean-wind limit applied (label or national)")
    wind_max_source: str = "label"
    gust_max_kmh: float | None = None
    skipped_past_hours: int = Field(default=0, description="forecast hours before 'now', ignored")
    forecast_end: datetime | None = None

    @property
    def next_window(self) -> SprayWindow | None:
        return self.windows[0] if self.windows else None


def _sun_days(forecast: Forecast, tz: tzinfo) -> dict[date, SunDay]:
    days: dict[date, SunDay] = {}
    for h in forecast.hours:
        for d in {h.time.astimezone(tz).date(), (h.time + _HOUR).astimezone(tz).date()}:
            if d not in days:
                rise, set_ = sun_times(d, forecast.lat, forecast.lon)
                days[d] = SunDay(date=d, sunrise=rise and rise.astimezone(tz),
                                 sunset=set_ and set_.astimezone(tz))
    return days


def _daylight(start: datetime, day: SunDay, lat: float) -> tuple[bool, bool]:
    """(whole hour in daylight, hour touches the inversion-prone dusk-to-dawn period)."""
    end = start + _HOUR
    if day.sunrise is None or day.sunset is None:
        up = _sun_is_up_all_day(day.date, lat)
        return up, not up
    whole = day.sunrise <= start and end <= day.sunset
    risky = start < day.sunrise + INVERSION_MARGIN or end > day.sunset - INVERSION_MARGIN
    return whole, risky


def _downwind_buffers(labels: Sequence[LabelDoc]) -> tuple[DownwindBuffer, ...]:
    return tuple(
        DownwindBuffer(product=lab.name, distance=lab.downwind_buffer.distance,
                       unit=lab.downwind_buffer.unit, metres=round(lab.downwind_buffer.metres, 3))
        for lab in labels if lab.downwind_buffer is not None and lab.downwind_buffer.distance > 0
    )


def _mean_direction(degs: Sequence[float]) -> float:
    s = sum(math.sin(math.radians(d)) for d in degs)
    c = sum(math.cos(math.radians(d)) for d in degs)
    return round(math.degrees(math.atan2(s, c)) % 360.0, 1)


def check_weather(forecast: Forecast, labels: Sequence[LabelDoc], *,
                  now: datetime | None = None, country: str | None = None) -> WeatherCheck:
    """Judge each forecast hour from ``now`` on against every label's weather limits.

    Hours that end before ``now`` are skipped (counted in ``skipped_past_hours``).
    When no label sets a wind limit, the national default of ``country`` applies.

    Times come back in the forecast's own time zone (that of its first hour).

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2024, 6, 4, 10, tzinfo=timezone.utc)
    >>> fc = Forecast(lat=48.5, lon=2.1, hours=[ForecastHour(time=t0, wind_kmh=8,
    ...     wind_dir_deg=225, temp_c=18, cloud_pct=50)])
    >>> check_weather(fc, []).windows[0].downwind_side
    'NE'
    """
    if now is not None and (now.tzinfo is None or now.utcoffset() is None):
        raise ValueError("now must be timezone-aware")
    tz = forecast.hours[0].time.tzinfo
    assert tz is not None
    days = _sun_days(forecast, tz)
    hours = forecast.hours
    end_of_forecast = hours[-1].time + _HOUR
    rainy = [h.rain_mm >= RAIN_MIN_MM for h in hours]
    label_limits = [lab.weather.wind_max_kmh for lab in labels if lab.weather.wind_max_kmh is not None]
    wind_max = min(label_limits) if label_limits else default_wind_max_kmh(country)
    gust_max = float(round(wind_max * GUST_FACTOR))  # whole km/h, as the advice states it
    verdicts: list[HourVerdict] = []
    skipped = 0
    for i, h in enumerate(hours):
        if now is not None and h.time + _HOUR <= now:
            skipped += 1
            continue
        t = h.time.astimezone(tz)
        in_daylight, dusk_to_dawn = _daylight(t, days[t.date()], forecast.lat)
        reasons: list[HourReason] = []
        if dusk_to_dawn and h.wind_kmh < INVERSION_WIND_KMH and h.cloud_pct <= INVERSION_MAX_CLOUD_PCT:
            reasons.append(HourReason(code="inversion", limit=INVERSION_WIND_KMH))
        if rainy[i]:
            reasons.append(HourReason(code="raining"))
        if not label_limits and h.wind_kmh > wind_max:
            reasons.append(HourReason(code="too_windy", limit=wind_max))
        if h.gust_kmh is not None and h.gust_kmh > gust_max:
            reasons.append(HourReason(code="gusty", limit=gust_max))
        for lab in labels:
            w = lab.weather
            if w.wind_max_kmh is not None and h.wind_kmh > w.wind_max_kmh:
                reasons.append(HourReason(code="too_windy", product=lab.name, limit=w.wind_max_kmh))
            if w.wind_min_kmh is not None and h.wind_kmh < w.wind_min_kmh:
                reasons.append(HourReason(code="too_calm", product=lab.name, limit=w.wind_min_kmh))
            if w.rain_free_h:
                until = h.time + timedelta(hours=w.rain_free_h)
                # hours whose span [s, s+1h) meets [t, t + rain_free)
                if any(rainy[j] for j in range(i, len(hours)) if hours[j].time < until):
                    reasons.append(HourReason(code="rain_soon", product=lab.name, limit=w.rain_free_h))
                elif until > end_of_forecast:
                    reasons.append(HourReason(code="rain_unknown", product=lab.name, limit=w.rain_free_h))
            if w.temp_min_c is not None and h.temp_c < w.temp_min_c:
                reasons.append(HourReason(code="too_cold", product=lab.name, limit=w.temp_min_c))
            if w.temp_max_c is not None and h.temp_c > w.temp_max_c:
                reasons.append(HourReason(code="too_hot", product=lab.name, limit=w.temp_max_c))
            if w.daylight_only and not in_daylight:
                reasons.append(HourReason(code="night", product=lab.name))
        verdicts.append(HourVerdict(
            time=t, allowed=not reasons, reasons=tuple(reasons), wind_kmh=h.wind_kmh,
            wind_dir_deg=h.wind_dir_deg, gust_kmh=h.gust_kmh, temp_c=h.temp_c, rain_mm=h.rain_mm,
            cloud_pct=h.cloud_pct,
        ))
    refused: dict[str, int] = {}
    for v in verdicts:
        for code in dict.fromkeys(r.code for r in v.reasons):
            refused[code] = refused.get(code, 0) + 1
    return WeatherCheck(
        lat=forecast.lat, lon=forecast.lon, hours=tuple(verdicts),
        windows=tuple(_windows(verdicts, _downwind_buffers(labels))),
        sun=tuple(days[d] for d in sorted(days)), refused_by=refused,
        refused_blocks=tuple(_refused_blocks(verdicts)), wind_max_kmh=wind_max,
        wind_max_source="label" if label_limits else "national_default", gust_max_kmh=gust_max,
        skipped_past_hours=skipped, forecast_end=end_of_forecast.astimezone(tz),
    )


def _refused_blocks(verdicts: Sequence[HourVerdict]) -> list[RefusedBlock]:
    """Refused hours grouped into runs with the same set of reasons, so advice can say why per block."""
    out: list[RefusedBlock] = []
    run: list[HourVerdict] = []

    def key(v: HourVerdict) -> tuple[str, ...]:
        return tuple(sorted(dict.fromkeys(r.code for r in v.reasons)))

    for v in [*verdicts, None]:
        if v is not None and not v.allowed and (not run or (key(v) == key(run[-1])
                                                           and v.time - run[-1].time == _HOUR)):
            run.append(v)
            continue
        if run:
            codes = list(dict.fromkeys(r.code for r in run[0].reasons))
            products = tuple(dict.fromkeys(r.product for x in run for r in x.reasons if r.product))
            out.append(RefusedBlock(start=run[0].time, end=run[-1].time + _HOUR, hours=len(run),
                                    reasons=tuple(codes), products=products))
        run = [v] if v is not None and not v.allowed else []
    return out


def _windows(verdicts: Sequence[HourVerdict], downwind: tuple[DownwindBuffer, ...]) -> list[SprayWindow]:
    out: list[SprayWindow] = []
    run: list[HourVerdict] = []
    for v in [*verdicts, None]:
        if v is not None and v.allowed and (not run or v.time - run[-1].time == _HOUR):
            run.append(v)
            continue
        if run:
            frm = _mean_direction([r.wind_dir_deg for r in run])
            out.append(SprayWindow(
                start=run[0].time, end=run[-1].time + _HOUR, hours=len(run),
                wind_kmh_min=min(r.wind_kmh for r in run), wind_kmh_max=max(r.wind_kmh for r in run),
                wind_from_deg=frm, wind_from=compass_point(frm),
                downwind_side=compass_point(frm + 180.0), downwind_buffers=downwind,
            ))
        run = [v] if v is not None and v.allowed else []
    return out


def forecast_from_columns(*, lat: float, lon: float, time: Sequence[datetime], **columns: Sequence[Any]
                          ) -> Forecast:
    """A forecast from parallel columns, as weather APIs serve them (``wind_kmh=[...]``, ...)."""
    n = len(time)
    bad = [k for k, v in columns.items() if len(v) != n]
    if bad:
        raise ValueError(f"columns {bad} do not have {n} values like time")
    return Forecast(lat=lat, lon=lon, hours=tuple(
        ForecastHour(time=t, **{k: v[i] for k, v in columns.items()}) for i, t in enumerate(time)
    ))
