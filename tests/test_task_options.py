"""Family option parsing shared by every model family (mktai train KIND ... --key value)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.errors import UsageError
from mktai.tasks.options import as_bool, as_float, as_int, like, normalise_extra, reject_unknown


def test_keys_are_normalised_however_typed():
    assert normalise_extra({"--k-max": "5", "K_Max2": "1"}) == {"k_max": "5", "k_max2": "1"}


@pytest.mark.parametrize(
    ("parse", "value", "expected"),
    [
        (as_int, " 12 ", 12),
        (as_float, "0.25", 0.25),
        (as_bool, "yes", True),
        (as_bool, "off", False),
    ],
)
def test_valid_values_parse(parse, value, expected):
    assert parse(value, "opt") == expected


@pytest.mark.parametrize(
    ("parse", "value", "needle"),
    [
        (as_int, "1.5", "whole number"),
        (as_float, "abc", "number"),
        (as_float, "nan", "number"),
        (as_bool, "maybe", "true or false"),
    ],
)
def test_bad_values_name_the_flag(parse, value, needle):
    with pytest.raises(UsageError, match=rf"--my-opt .*{needle}"):
        parse(value, "my_opt")


def test_ranges_are_enforced():
    with pytest.raises(UsageError, match="at least 1"):
        as_int("0", "horizon", low=1)
    with pytest.raises(UsageError, match="at most 0.9"):
        as_float("0.95", "test_size", high=0.9)


def test_like_follows_the_default_type():
    assert like(True, "no", "x") is False
    assert like(3, "4", "x") == 4
    assert like(0.5, "1", "x") == 1.0
    assert like("a", 7, "x") == "7"


def test_unknown_options_are_listed_with_the_known_ones():
    with pytest.raises(UsageError, match=r"--bogus.*takes --horizon, --k"):
        reject_unknown({"bogus": "1"}, ["k", "horizon"], "segments")


def test_train_cli_rejects_a_bad_family_value_with_exit_2(tmp_path):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "transactions_sample.csv"
    result = CliRunner().invoke(
        app,
        [
            "--store",
            str(tmp_path),
            "train",
            "segments",
            str(sample),
            "--name",
            "rfm",
            "--horizon",
            "ninety",
        ],
    )
    assert result.exit_code == 2
    assert "--horizon must be a whole number" in result.output
    assert not (tmp_path / "rfm").exists()


def test_unknown_option_lists_the_chosen_algorithms_options_as_users_spell_them():
    from mktai.tasks import spec_for

    sentiment = spec_for("sentiment")
    with pytest.raises(UsageError) as nb:
        sentiment.parse_options({"colour": "red"}, "nb")
    offered = str(nb.value).split(" takes ")[1].split(", ")
    assert offered == ["--alpha", "--labels", "--min-df", "--word-ngram"]  # no linear/keras ones
    with pytest.raises(UsageError, match=r"takes --C, --char-max") as linear:
        sentiment.parse_options({"colour": "red"}, "linear")
    assert "--epochs" not in str(linear.value) and "--c," not in str(linear.value)
