"""The first screen paints without paying for boto3 or fastavro."""

from __future__ import annotations

import subprocess
import sys


def test_app_modules_do_not_import_heavy_libraries() -> None:
    code = (
        "import sys, tui.app, tui.screens, tui.cli\n"
        "heavy = sorted(m for m in ('boto3', 'botocore', 'fastavro', 'moto') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
