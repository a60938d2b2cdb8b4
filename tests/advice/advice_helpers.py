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


