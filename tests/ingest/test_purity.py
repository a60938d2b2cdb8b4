from __future__ import annotations

import subprocess
import sys


def test_ingest_imports_no_web_framework_or_database() -> None:
    code = ("import sys, app.ingest; "
            "print(sorted(m for m in ('fastapi', 'starlette', 'sqlalchemy', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_error_is_a_value_error() -> None:
    import app.ingest as ingest

    for name in ("BandMismatch", "CorruptFile", "InvalidData", "InvalidGeometry", "InvalidUnit", "NoOverlap",
                 "TooLarge", "UnknownSpecies", "UnsafeArchive", "UnsupportedFormat"):
        cls = getattr(ingest, name)
        assert issubclass(cls, ingest.IngestError) and issubclass(cls, ValueError), name
