"""`dosewise serve` with the sample data in a fresh process, as `make run` starts it, on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Running:
    port: int
    url: str
    cwd: Path
    env: dict[str, str]

    @property
    def key(self) -> str:
        return (self.cwd / "var" / "demo-key.txt").read_text().strip()


@contextmanager
def sample_server(cwd: Path, output: list[str] | None = None) -> Iterator[Running]:
    """Start the server in ``cwd`` (SQLite and demo key under ``cwd/var``); ``output`` gets its console."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    (cwd / "data").symlink_to(ROOT / "data")
    env = {k: v for k, v in os.environ.items() if k != "DOSEWISE_DATABASE_URL"}
    env.update({"DOSEWISE_DATA_DIR": "var", "DOSEWISE_SHARE_DIR": str(ROOT / "data")})
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=cwd,
                              env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError("server did not start")
        yield Running(port, url, cwd, env)
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=20)
        if output is not None:
            output.append(out)
