"""One segmentation run: the options, the result and the lines-to-customers step.

segment_customers() fits a SegmentModel on this data (fit.fit_model: edges, centroids, CLV
parameters) and applies it (apply.apply_model); a stored SegmentModel applies itself
(SegmentModel.apply) through the same apply_model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mktai.tasks.segment.rfm import MONETARY_MODES

if TYPE_CHECKING:
    import pandas as pd

    from mktai.data.table import CleanTable
    from mktai.tasks.segment.model import SegmentModel


@dataclass
class SegmentOptions:
    """What to compute. k=None means automatic; clusters=False skips k-means."""

    as_of: Any = None
    monetary: str = "mean"
    clusters: bool = True
    k: int | None = None
    k_min: int = 2
    k_max: int = 8
    clv: bool = False
    horizon: int = 90
    discount: float = 0.0
    seed: int = 0
    segment_map: dict[str, Any] | None = None
    features: Any = None  # optional DataFrame: customer + numeric feature columns

    def validate(self) -> None:
        from mktai.errors import UsageError

        if self.monetary not in MONETARY_MODES:
            raise UsageError(
                f"--monetary must be one of {', '.join(MONETARY_MODES)}, not {self.monetary!r}"
            )
        if self.k is not None and self.k < 1:
            raise UsageError(f"--k must be a positive number, 'auto' or 'off', not {self.k}")
        if not 2 <= self.k_min <= self.k_max:
            raise UsageError(f"--k-max must be at least {self.k_min}, not {self.k_max}")
        check_clv_options(self.horizon, self.discount)


def parse_as_of(text: Any) -> Any:
    """--as-of YYYY-MM-DD -> a normalised Timestamp (None stays None); the one parser of it."""
    if text is None:
        return None
    import pandas as pd

    from mktai.errors import UsageError

    try:
        return pd.Timestamp(text).normalize()
    except (ValueError, TypeError):
        raise UsageError(f"--as-of {text!r} is not a date; use YYYY-MM-DD") from None


def check_clv_options(horizon: int | None, discount: float | None) -> None:
    """UsageError for a CLV horizon or discount rate that makes no sense (None = not given)."""
    from mktai.errors import UsageError

    if horizon is not None and horizon < 1:
        raise UsageError(f"--horizon must be a positive number of days, not {horizon}")
    if discount is not None and not 0 <= discount < 10:
        raise UsageError(f"--discount is an annual rate such as 0.1, not {discount}")


@dataclass
class SegmentResult:
    """Per-customer output, the JSON-able summary and the warnings to show the user."""

    customers: pd.DataFrame
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    model: SegmentModel | None = None


def transactions_frame(table: CleanTable) -> tuple[pd.DataFrame, dict[str, int]]:
    """Standard columns (customer, date, amount, order?, is_return?) from a CleanTable.

    Rows without a customer id or amount are counted, not used (the cleaning report lists them).
    """
    import pandas as pd

    table.require("customer", "date", "amount")
    frame = pd.DataFrame(
        {
            "customer": table.col("customer"),
            "date": table.col("date"),
            "amount": pd.to_numeric(table.col("amount"), errors="coerce"),
        },
        copy=False,  # views of the table's columns: 10M lines need no second copy
    )
    if table.has("order"):
        frame["order"] = table.col("order")
    if table.has("is_return"):
        frame["is_return"] = table.col("is_return").fillna(False).astype(bool)
    no_customer = frame["customer"].isna()
    no_date = frame["date"].isna()
    no_amount = frame["amount"].isna()
    usable = ~(no_customer | no_date | no_amount)
    counts = {
        "rows": len(frame),
        "rows_without_customer": int(no_customer.sum()),
        "rows_without_date": int((no_date & ~no_customer).sum()),
        "rows_without_amount": int((no_amount & ~no_customer & ~no_date).sum()),
        "rows_rejected_by_cleaning": len(table.rejects),
    }
    if not usable.all():
        frame = frame.loc[usable].reset_index(drop=True)
    if frame.empty:
        from mktai.errors import InputError

        raise InputError(
            f"{table.describe()}: no transaction row has a customer id, a date and an amount; "
            "check the columns (or name them with --map customer=... --map date=...)"
        )
    return frame, counts


def customer_table(
    frame: pd.DataFrame | None,
    *,
    as_of: Any,
    monetary: str,
    summary: tuple[pd.DataFrame, Any] | None = None,
) -> tuple[pd.DataFrame, Any]:
    """(per-customer frame, LineStats): SUMMARY when already made (the Spark engine reduces the
    lines per customer on the cluster), else rfm.summarise of the lines in FRAME."""
    if summary is not None:
        return summary
    from mktai.tasks.segment import rfm

    return rfm.summarise(frame, as_of=as_of, monetary=monetary)


def segment_customers(
    frame: pd.DataFrame | None,
    options: SegmentOptions,
    *,
    summary: tuple[pd.DataFrame, Any] | None = None,
) -> SegmentResult:
    """Fit edges, clusters and (optionally) CLV on this data and score every customer with them.

    When CLV cannot be fitted (too few customers) the customers still get RFM, the CLV columns
    stay empty and a warning says why. summary: the per-customer table already made from the
    lines (rfm.summarise's output, e.g. by the Spark engine); frame is then not needed.
    """
    from mktai.tasks.segment.apply import apply_model
    from mktai.tasks.segment.fit import fit_model

    options.validate()
    customers = customer_table(frame, as_of=options.as_of, monetary=options.monetary,
                               summary=summary)  # fmt: skip
    model = fit_model(customers, options)
    return apply_model(model, customers, clv=options.clv, features=options.features,
                       notes=model.fit_notes)  # fmt: skip
