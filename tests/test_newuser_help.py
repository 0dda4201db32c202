"""Issue #13 item 9: help and file names say what the commands do.

Realistic data: the bank marketing sample, a model trained from it.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mktai.cli.app import app

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "bank_sample.csv"
runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    result = runner.invoke(app, ["--store", str(root), "train", "propensity", str(SAMPLE),
                                 "--target", "y", "--name", "resp", "--algorithm", "linear",
                                 "--cv", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return root


@pytest.mark.parametrize("name", ["out.zip", "out.tar", "model"])
def test_export_refuses_an_archive_name_it_would_not_honour(store, tmp_path, name):
    target = tmp_path / name
    result = runner.invoke(app, ["--store", str(store), "models", "export", "resp", "-o",
                                 str(target)])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert ".tar.gz" in result.stderr and "Traceback" not in result.stderr
    assert not target.exists()


@pytest.mark.parametrize("name", ["out.tar.gz", "out.tgz"])
def test_export_writes_the_gzip_tar_its_name_says(store, tmp_path, name):
    target = tmp_path / name
    result = runner.invoke(app, ["--store", str(store), "models", "export", "resp", "-o",
                                 str(target)])  # fmt: skip
    assert result.exit_code == 0, result.output
    with tarfile.open(target, "r:gz") as archive:
        assert any(m.name.endswith("manifest.json") for m in archive.getmembers())
