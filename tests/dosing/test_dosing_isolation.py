"""The dosing core must not pull in the web or database layers."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dosing_imports_no_service_layers():
    code = (
        "import sys\n"
        "import app.dosing.prescribe, app.dosing.masks, app.dosing.mixture, app.dosing.sprayer\n"
        "import app.domain.units, app.dosing.yield_loss\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'sqlalchemy', 'starlette',"
        " 'pydantic_settings') or m.startswith(('app.api', 'app.models', 'app.settings')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
