"""Issue #13 item 11: `pip install mktai` (no checkout), then `mktai demo` works.

Builds the real wheel from this checkout (no build isolation, no network), installs it without
dependencies into a temporary directory, and runs the installed `mktai demo` from a directory
that is not a checkout: the sample files must come from the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    work = tmp_path_factory.mktemp("build")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "mktai", source / "mktai", ignore=ignore)
    shutil.copytree(ROOT / "sample_data", source / "sample_data", ignore=ignore)
    wheels = work / "wheels"
    run = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*run, "-w", str(wheels), str(source)], check=True, capture_output=True)
    (wheel,) = wheels.glob("mktai-*.whl")
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)  # fmt: skip
    return wheel, target


def test_wheel_ships_the_sample_files_from_the_top_level_folder(installed):
    wheel, _target = installed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for path in (ROOT / "sample_data").glob("*.csv"):
            member = f"mktai/sample_data/{path.name}"
            assert member in names, f"{member} missing from the wheel"
            assert archive.read(member) == path.read_bytes()


def test_wheel_ships_every_package_of_the_checkout(installed):
    """pyproject.toml lists the packages by hand: a new family folder left off the list would
    install a mktai that fails on import."""
    wheel, _target = installed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for init in (ROOT / "mktai").rglob("__init__.py"):
        member = init.relative_to(ROOT).as_posix()
        assert member in names, f"{member} missing from the wheel: list it in pyproject.toml"


def test_installed_demo_runs_outside_a_checkout(installed, tmp_path):
    _wheel, target = installed
    env = {**os.environ, "PYTHONPATH": str(target), "MKTAI_THREADS": "1"}
    elsewhere = tmp_path / "somewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "mktai.cli.app", "demo", "--out", str(out)],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert str(target / "mktai" / "sample_data") in result.stderr
    assert (out / "bank_scores.csv").is_file()
