"""The layers of DESIGN.md §2 hold: import-linter's contracts (pyproject.toml) are all kept.

Also checks that the contract would catch a breach: a copy of the package with one upward
import added (data -> tasks) must break it, so a misconfigured contract cannot pass silently.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed")


def run_lint(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--config", str(project / "pyproject.toml"), "--no-cache"],
        cwd=project,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def test_import_contracts_are_kept():
    result = run_lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path):
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    shutil.copytree(ROOT / "mktai", copy / "mktai", ignore=shutil.ignore_patterns("__pycache__"))
    schema = copy / "mktai" / "data" / "schema.py"
    schema.write_text(schema.read_text(encoding="utf-8") + "\nfrom mktai.tasks import kinds\n",
                      encoding="utf-8")  # fmt: skip
    result = run_lint(copy)
    assert result.returncode != 0
    assert "mktai.data.schema -> mktai.tasks" in result.stdout
