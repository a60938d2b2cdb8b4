"""Helpers for the advice tests: hand-made forecasts and a fake OpenAI-compatible server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from app.advice import ForecastHour

CEST = timezone(timedelta(hours=2))

# A behaviour is (kind, payload): ("content", str) answers with that message content,
# ("status", int) fails with that HTTP status, ("stall", None) never answers in time,
# ("no_schema", str) rejects response_format with 400 and answers plain requests with str,
# ("length", str) answers str with finish_reason "length" (cut at max_tokens),
# ("script", [behaviour, ...]) plays one behaviour per request, the last one again when they run out.
Behaviour = tuple[str, Any]


class FakeChatServer:
    """/v1/chat/completions on 127.0.0.1, one behaviour per model name."""

    def __init__(self) -> None:
        self.behaviours: dict[str, Behaviour] = {}
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append({"path": self.path, "body": body})
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "not found"}})
                kind, payload = owner.behaviours[body["model"]]
                if kind == "script":
                    kind, payload = payload.pop(0) if len(payload) > 1 else payload[0]
                if kind == "status":
                    return self._send(payload, {"error": {"message": "server error", "type": "server_error"}})
                if kind == "stall":
                    owner.release.wait(10)
                    return None
                if kind == "no_schema" and "response_format" in body:
                    return self._send(400, {"error": {"message": "response_format not supported"}})
                return self._send(200, {
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "length" if kind == "length" else "stop",
                                 "message": {"role": "assistant", "content": payload}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                })

            def _send(self, status: int, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def hourly(start: datetime, n: int, **overrides: Callable[[int], float] | float) -> list[ForecastHour]:
    """``n`` hours from ``start``: dry, mild, half cloudy, 10 km/h from the SW, unless overridden."""
    base: dict[str, Any] = {"wind_kmh": 10.0, "wind_dir_deg": 225.0, "gust_kmh": 15.0, "temp_c": 18.0,
                            "rain_mm": 0.0, "cloud_pct": 50.0}
    hours = []
    for i in range(n):
        values = {k: (v(i) if callable(v) else v) for k, v in {**base, **overrides}.items()}
        hours.append(ForecastHour(time=start + timedelta(hours=i), **values))
    return hours




FR_FIELD = {"name": "Les Prés du Ru", "crop": "maize", "growth_stage_bbch": 14, "country": "FR"}
FR_SUMMARY = {"field_area_ha": 12.5, "sprayable_area_ha": 12.0, "treated_area_ha": 3.2,
              "product_total": [4.8], "broadcast_total": [18.0], "saving_pct": [73.3],
              "control_pct": {"CHEAL": 96.0}, "tank_loads": 2}
FR_SPECIES = {"CHEAL": {"en": "fat hen", "fr": "chénopode blanc"},
              "AMARE": {"en": "redroot pigweed", "fr": "amarante réfléchie"}}


def make_fr_facts():  # type: ignore[no-untyped-def]
    """Maize in France, one metric product, a day of forecast with a morning window."""
    from app.advice import Forecast, build_fact_sheet
    from app.advice.examples import mesotrione_fr

    t0 = datetime(2024, 6, 4, 0, tzinfo=CEST)
    wind = lambda i: 2.0 if i < 8 else 10.0 if i < 15 else 25.0  # noqa: E731
    fc = Forecast(lat=48.5, lon=2.1, hours=hourly(t0, 24, wind_kmh=wind, cloud_pct=10.0))
    return build_fact_sheet(field=FR_FIELD, labels=[mesotrione_fr()], summary=FR_SUMMARY,
                            strategy="threshold", species_names=FR_SPECIES, forecast=fc, now=t0)


def make_us_facts():  # type: ignore[no-untyped-def]
    """Soybean in Iowa: glyphosate + dicamba (downwind buffer), a forecast with an afternoon window."""
    from datetime import UTC

    from app.advice import Forecast, build_fact_sheet
    from app.advice.examples import dicamba_us, example_inputs, glyphosate_us
    from app.domain.units import to_canonical_rate

    fl_oz_acre = to_canonical_rate(1.0, "fl oz/acre")  # L/ha
    t0 = datetime(2024, 6, 4, 5, tzinfo=UTC)  # midnight CDT
    inputs = example_inputs()
    treated = inputs["summary"]["treated_area_ha"]
    summary = {**inputs["summary"],
               "product_total": [treated * 32 * fl_oz_acre, treated * 12.8 * fl_oz_acre],
               "broadcast_total": [15.5 * 32 * fl_oz_acre, 15.5 * 12.8 * fl_oz_acre], "saving_pct": [74.2, 74.2]}
    fc = Forecast(lat=41.6, lon=-93.6, hours=hourly(t0, 24))
    return build_fact_sheet(**{**inputs, "labels": [glyphosate_us(), dicamba_us()], "summary": summary,
                               "forecast": fc, "now": t0})
