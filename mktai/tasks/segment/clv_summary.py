"""CLV straight from a customer summary table (frequency, recency, T, monetary_value).

Users coming from lifetimes often have the summary rather than the lines
(`summary_data_from_transaction_data`, or a published table such as CDNOW's). Its columns are
lifetimes': frequency = repeat purchase periods (x), recency = age at the last purchase (t_x),
T = age at the end of the observation period, monetary_value = mean spend of the repeat
purchases (0 without one). BG/NBD is fitted on every row and Gamma-Gamma on the rows with a
repeat purchase and a positive spend, as lifetimes does, in the table's own time unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mktai.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

REQUIRED = ("frequency", "recency", "t")  # cleaned (snake_case) names; T is written t
SPEND = ("monetary_value", "monetary", "avg_spend")
CUSTOMER = ("customer_id", "customer", "customerid", "id", "cust_id")


@dataclass
class SummaryCLV:
    customers: pd.DataFrame
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def is_customer_summary(columns: list[str]) -> bool:
    """True when the (cleaned) columns are a lifetimes-style customer summary."""
    names = {str(c).strip().lower() for c in columns}
    return all(c in names for c in REQUIRED)


def _column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def _numbers(frame: pd.DataFrame, name: str, source: str):
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64")
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if len(bad):
        raise InputError(
            f"{source}: column {name!r} must hold numbers >= 0; row {int(bad[0]) + 1} has "
            f"{frame[name].iloc[int(bad[0])]!r} ({len(bad)} such row(s))"
        )
    return values


def clv_from_summary(
    frame: pd.DataFrame,
    *,
    horizon: float,
    discount: float = 0.0,
    source: str = "input",
) -> SummaryCLV:
    """Fit BG/NBD + Gamma-Gamma on a customer summary and score every row (see module doc)."""
    import numpy as np
    import pandas as pd

    from mktai.tasks.segment.clv import expected_value, fit_bgnbd, fit_gamma_gamma

    if len(frame) == 0:
        raise InputError(f"{source}: the customer summary has no data rows")
    lower = {str(c).lower(): c for c in frame.columns}
    x = _numbers(frame, lower["frequency"], source)
    t_x = _numbers(frame, lower["recency"], source)
    T = _numbers(frame, lower["t"], source)
    wrong = np.flatnonzero((t_x > T) | ((x == 0) & (t_x > 0)))
    if len(wrong):
        row = int(wrong[0])
        raise InputError(
            f"{source}: row {row + 1} has frequency {x[row]:g}, recency {t_x[row]:g}, T {T[row]:g}; "
            "in a lifetimes summary recency (age at the last purchase) is at most T and 0 when "
            f"frequency is 0 ({len(wrong)} such row(s)); is recency days since the last purchase? "
            "then recency = T - that"
        )
    warnings: list[str] = []
    spend_name = _column(frame, SPEND)
    bg = fit_bgnbd(x, t_x, T)
    if not bg.converged:
        warnings.append("BG/NBD fit did not fully converge; treat CLV figures with care")
    out = pd.DataFrame(index=frame.index)
    customer = _column(frame, CUSTOMER)
    out["customer"] = frame[customer].astype("string") if customer else np.arange(1, len(x) + 1)
    out["frequency"], out["recency"], out["T"] = x, t_x, T
    out["p_alive"] = bg.p_alive(x, t_x, T)
    out["expected_purchases"] = bg.expected_purchases(float(horizon), x, t_x, T)
    clv: dict[str, Any] = {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b,
                           "bgnbd": bg.to_dict(), "horizon": horizon, "discount": discount,
                           "time_unit": "the table's own (as T)"}  # fmt: skip
    if spend_name is not None:
        spend = _numbers(frame, spend_name, source)
        gg = None
        try:
            gg = fit_gamma_gamma(x, spend)
        except InputError as exc:
            warnings.append(f"{exc}; expected value uses each customer's own mean spend")
        out["monetary_value"] = spend
        out["expected_spend"] = gg.expected_spend(x, spend) if gg is not None else spend
        out["expected_value"] = expected_value(bg, gg, horizon=float(horizon), x=x, t_x=t_x,
                                               T=T, spend_n=x, spend_mean=spend,
                                               discount=discount)  # fmt: skip
        if gg is not None:
            clv.update(p=gg.p, q=gg.q, v=gg.v, gamma_gamma=gg.to_dict())
        clv["expected_value_total"] = float(out["expected_value"].sum())
    else:
        warnings.append("no monetary_value column: expected purchases only, no value")
    clv["customers"] = int(len(x))
    clv["repeat_customers"] = int((x > 0).sum())
    clv["expected_purchases_total"] = float(out["expected_purchases"].sum())
    clv["mean_p_alive"] = float(out["p_alive"].mean())
    summary = {"input": "customer summary (frequency, recency, T)", "customers": int(len(x)),
               "clv": clv, "warnings": warnings}  # fmt: skip
    return SummaryCLV(out.reset_index(drop=True), summary, warnings)
