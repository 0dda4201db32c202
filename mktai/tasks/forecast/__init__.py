"""Forecast family: many sales series at once, exogenous drivers, choice by backtest.

Light on purpose: only the spec is defined here (no NumPy / pandas); the code is in
`mktai.tasks.forecast.family` and the modules next to it.
"""

from mktai.tasks.spec import FamilySpec, Param

ALGORITHMS = ("auto", "naive", "snaive", "drift", "ets", "theta", "arima", "linear", "gbm", "comb")

SPEC = FamilySpec(
    name="forecast",
    kinds=("forecast",),
    dataset_kind="sales",
    applies_with="forecast",
    module="mktai.tasks.forecast.family",
    algorithms=ALGORITHMS,
    default_algorithm="auto",
    summary="sales series: baselines, ETS, theta, ARIMA, linear + exogenous, global GBM, combinations",
    params=(
        Param("horizon", "int", 12, "periods to forecast", low=1, high=10_000),
        Param("by", "list", None, "series key column(s), e.g. store,product"),
        Param(
            "freq",
            "str",
            None,
            "D, W, M or Q (default: inferred; coarser re-aggregates)",
            choices=("d", "w", "m", "q"),
        ),  # fmt: skip
        Param(
            "agg",
            "str",
            "sum",
            "how duplicate dates / re-aggregation combine",
            choices=("sum", "mean"),
        ),  # fmt: skip
        Param(
            "fill",
            "str",
            "zero",
            "missing periods: zero (sales) or interpolate",
            choices=("zero", "interpolate"),
        ),  # fmt: skip
        Param("wide", "bool", False, "one column per series instead of long format"),
        Param("value", "str", None, "the column to forecast (default: the amount/sales column)"),
        Param("exog", "list", None, "exogenous regressor columns (need future values)"),
        Param(
            "future",
            "str",
            None,
            "train with --exog: future regressor values (date, keys, --exog columns) for the "
            "stored forecast (default: last values carried forward)",
        ),
        Param("level", "list", ["80", "95"], "prediction interval levels in percent"),
        Param(
            "origins", "int", 3, "rolling origins used by auto to choose per series", low=1, high=20
        ),  # fmt: skip
        Param(
            "intervals",
            "str",
            "conformal",
            "conformal (backtest residuals) or model",
            choices=("conformal", "model"),
        ),  # fmt: skip
    ),
)
