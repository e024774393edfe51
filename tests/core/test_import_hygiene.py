"""``core`` is importable without the TUI stack, and the configuration path without S3/Avro."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

LOAD_EVERY_CORE_MODULE = """
import importlib, json, pkgutil, sys
import core
names = sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))
for name in names:
    importlib.import_module(name)
loaded = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"modules": names, "loaded": loaded}))
"""


def run_python(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_every_core_module_loads_neither_textual_nor_rich() -> None:
    result = run_python(LOAD_EVERY_CORE_MODULE)
    on_disk = sorted(f"core.{p.stem}" for p in (REPO / "core").glob("*.py") if p.stem != "__init__")
    assert set(on_disk) <= set(result["modules"]), "pkgutil must find every module in core/"
    assert {"core.config", "core.models", "core.patterns", "core.project", "core.schedule", "core.store"} <= set(
        result["modules"]
    )
    for forbidden in ("textual", "rich", "tui"):
        assert forbidden not in result["loaded"], f"importing core loaded {forbidden}"


def test_configuration_modules_do_not_load_boto3_or_fastavro() -> None:
    code = (
        "import json, sys\n"
        "import core.config, core.project, core.store, core.models, core.schedule\n"
        "print(json.dumps({'loaded': sorted({m.split('.')[0] for m in sys.modules})}))\n"
    )
    loaded = set(run_python(code)["loaded"])
    for heavy in ("boto3", "botocore", "fastavro", "textual", "rich", "moto"):
        assert heavy not in loaded, f"{heavy} is imported on the configuration path"


def test_the_check_itself_can_see_a_forbidden_import() -> None:
    loaded = set(run_python("import json, sys, rich\nprint(json.dumps({'loaded': sorted(sys.modules)}))")["loaded"])
    assert "rich" in loaded
