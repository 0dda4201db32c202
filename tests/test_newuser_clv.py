"""Issue #13 item 6: CLV follows lifetimes' conventions, and --as-of is the last day included.

Realistic data: a CDNOW-shaped purchase log generated with a fixed seed (customer, day, dollar
amount, no order ids; a cohort joining in the first 12 weeks, BG/NBD-style repeat buying over
78 weeks, about 3% zero-value lines as CDNOW has). The reference is lifetimes'
summary_data_from_transaction_data (freq "D", observation_period_end = the last date),
rewritten here in plain pandas, fitted with the same maximum-likelihood code.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from mktai.cli.app import app
from mktai.tasks.segment.clv import fit_bgnbd, fit_gamma_gamma

runner = CliRunner()
START = pd.Timestamp("1997-01-01")


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    rng = np.random.default_rng(13)
    rows = []
    for customer in range(1, 601):
        rate = rng.gamma(0.5, 1 / 25)  # purchases per day while alive
        churn = rng.beta(0.8, 2.5)
        day = int(rng.integers(0, 84))
        mean_spend = rng.gamma(6.0, 1 / 0.25)
        while day < 546:
            amount = 0.0 if rng.random() < 0.03 else round(rng.gamma(6.0, mean_spend / 6.0), 2)
            rows.append((customer, START + pd.Timedelta(days=day), amount))
            if rng.random() < churn:
                break
            day += 1 + int(rng.exponential(1 / max(rate, 1e-4)))
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    # a customer whose only purchase is free (zero spend), and one who buys on the last day
    last = frame["date"].max()
    frame.loc[len(frame)] = (9001, START + pd.Timedelta(days=30), 0.0)
    frame.loc[len(frame)] = (9002, last, 25.0)
    path = tmp_path_factory.mktemp("cdnow") / "cdnow_like.csv"
    out = frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d"))
    out.to_csv(path, index=False)
    return path, frame


def lifetimes_summary(frame: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """lifetimes.utils.summary_data_from_transaction_data(..., freq="D") in pandas."""
    frame = frame[frame["date"] <= end]
    days = frame.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    first = days.groupby("customer_id")["date"].transform("min")
    per = days.groupby("customer_id")
    summary = pd.DataFrame(
        {
            "frequency": per.size() - 1,
            "recency": (per["date"].max() - per["date"].min()).dt.days,
            "T": (end - per["date"].min()).dt.days,
        }
    )
    repeat = days[days["date"] > first].groupby("customer_id")["amount"].mean()
    summary["monetary_value"] = repeat.reindex(summary.index).fillna(0.0)
    return summary


def run_segment(path, tmp_path, *extra):
    out = tmp_path / "customers.csv"
    result = runner.invoke(app, ["segment", str(path), "--clv", "--k", "off", "-o", str(out),
                                 "--json", *extra])  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), pd.read_csv(out, dtype={"customer": str})


def test_parameters_match_lifetimes_conventions(log, tmp_path):
    path, frame = log
    summary, customers = run_segment(path, tmp_path)
    end = frame["date"].max()
    assert summary["as_of"] == str(end.date())
    ref = lifetimes_summary(frame, end)
    bg = fit_bgnbd(ref["frequency"], ref["recency"], ref["T"])
    repeat = ref[ref["frequency"] > 0]
    gg = fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"])
    clv = summary["clv"]
    assert clv["customers"] == len(ref)  # every customer, the zero-spend ones too
    for name, want in {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b,
                       "p": gg.p, "q": gg.q, "v": gg.v}.items():  # fmt: skip
        assert clv[name] == pytest.approx(want, rel=1e-4), name
    free = customers.set_index("customer").loc["9001"]
    assert free["p_alive"] == pytest.approx(1.0)  # in the count model, no repeat purchase
    assert np.isnan(free["expected_value"])  # no spend to value


def test_as_of_day_lines_are_in_and_later_lines_out(log, tmp_path):
    path, frame = log
    day = pd.Timestamp("1997-06-30")
    summary, customers = run_segment(path, tmp_path, "--as-of", str(day.date()))
    assert summary["as_of"] == "1997-06-30"
    assert summary["lines"]["lines_after_as_of"] == int((frame["date"] > day).sum())
    assert summary["lines"]["lines"] == int((frame["date"] <= day).sum())
    paid = frame[(frame["date"] == day) & (frame["amount"] > 0)]  # RFM recency: paid lines
    bought_that_day = set(paid["customer_id"].astype(str))
    assert bought_that_day, "the generated log has purchases on that day"
    rows = customers.set_index("customer").loc[sorted(bought_that_day)]
    assert (rows["recency"] == 0).all()
    ref = lifetimes_summary(frame, day)
    bg = fit_bgnbd(ref["frequency"], ref["recency"], ref["T"])
    assert summary["clv"]["r"] == pytest.approx(bg.r, rel=1e-4)
    assert summary["clv"]["alpha"] == pytest.approx(bg.alpha, rel=1e-4)
