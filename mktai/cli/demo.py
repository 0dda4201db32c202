"""`mktai demo`: the whole tour on sample_data/ into a throw-away store.

The tour is data: STEPS lists each command line (argv with {sample}, {out} and {seed}
placeholders) and the outputs it produces, in order, grouped by section. Each step runs through
the real CLI in-process, so the demo is also a smoke test of the user contract. Nothing else
imports this module. A few steps prepare files instead of running a command line (PREPARE: the
bank sample split into training and holdout files, the transactions and daily sales samples split
by date); {first_model} names the first stored model for the export.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer


@dataclass(frozen=True)
class Step:
    """One command line of the tour; outputs are (label, path template) pairs it writes."""

    section: str
    argv: tuple[str, ...] = ()
    outputs: tuple[tuple[str, str], ...] = ()
    note: str = ""
    action: str = ""  # a key of PREPARE: prepare files instead of running a command line


STEPS: tuple[Step, ...] = (
    Step("ingest", ("ingest", "{sample}/transactions_sample.csv", "-o", "{out}/transactions.clean.parquet",
                    "--report", "{out}/ingest.json"),
         (("clean transactions", "{out}/transactions.clean.parquet"), ("ingest report", "{out}/ingest.json"))),
    Step("segment", ("segment", "{sample}/transactions_sample.csv", "--clv", "--horizon", "90", "--seed", "{seed}",
                     "-o", "{out}/customers_segments.csv", "--report", "{out}/segments_report.html"),
         (("segment: customers", "{out}/customers_segments.csv"), ("segment: report", "{out}/segments_report.html"))),
    Step("segment", ("train", "segments", "{sample}/transactions_sample.csv", "--name", "rfm", "--seed", "{seed}")),
    Step("segment", ("segment", "{sample}/transactions_sample.csv", "--model", "rfm", "--as-of", "2011-11-01",
                     "-o", "{out}/customers_2011-10.csv"),
         (("segment: 2011-10 snapshot", "{out}/customers_2011-10.csv"),)),
    Step("segment", ("segment", "{sample}/transactions_sample.csv", "--model", "rfm", "--compare-to",
                     "{out}/customers_2011-10.csv", "-o", "{out}/customers_scored.csv"),
         (("segment: with model rfm", "{out}/customers_scored.csv"),)),
    Step("sentiment", ("sentiment", "Great product, fast delivery", "质量很差，不会再买了", "--explain")),
    Step("sentiment", ("sentiment", "--input", "{sample}/reviews.csv", "--column", "review", "--explain",
                       "-o", "{out}/reviews_scored.csv"),
         (("sentiment scores", "{out}/reviews_scored.csv"),)),
    Step("sentiment", ("train", "sentiment", "{sample}/reviews.csv", "--name", "reviews", "--seed", "{seed}"),
         note="\nA model of your own from labelled reviews (here only 120, so expect it to be weaker "
              "than the built-in model, which learnt from 20,000):"),
    Step("sentiment", ("sentiment", "--model", "reviews", "Love it, works great", "质量很差，很失望")),
    Step("train", action="split_bank",
         outputs=(("bank training split", "{out}/bank_train.csv"), ("bank holdout split", "{out}/bank_holdout.csv"))),
    Step("train", ("train", "propensity", "{out}/bank_train.csv", "--target", "y", "--name", "response",
                   "--seed", "{seed}", "--max-iter", "200")),
    Step("train", ("predict", "--model", "response", "{out}/bank_holdout.csv", "-o", "{out}/bank_scores.csv"),
         (("propensity scores", "{out}/bank_scores.csv"),)),
    Step("evaluate", ("evaluate", "--model", "response", "--data", "{out}/bank_holdout.csv",
                      "--report", "{out}/evaluation.html", "--report", "{out}/evaluation.md",
                      "--junit", "{out}/evaluation-junit.xml", "--fail-under", "roc_auc=0.80"),
         (("evaluation report (HTML)", "{out}/evaluation.html"), ("evaluation report (Markdown)", "{out}/evaluation.md"),
          ("JUnit gates", "{out}/evaluation-junit.xml"))),
    Step("recommend", action="split_orders",
         outputs=(("purchases until 2011-09-30", "{out}/orders_train.csv"),
                  ("purchases from 2011-10-01", "{out}/orders_test.csv"))),
    Step("recommend", ("train", "recommender", "{out}/orders_train.csv", "--name", "basket", "--seed", "{seed}")),
    Step("recommend", ("recommend", "--model", "basket", "--all-users", "-n", "10", "-o", "{out}/recommendations.csv"),
         (("top-10 per customer", "{out}/recommendations.csv"),)),
    Step("recommend", ("recommend", "--model", "basket", "--similar-to", "85123A", "-n", "5")),
    Step("recommend", ("evaluate", "--model", "basket", "--data", "{out}/orders_test.csv",
                       "--fail-under", "ndcg_at_10=0.02")),
    Step("forecast", action="split_sales",
         outputs=(("sales until 2011-11-11", "{out}/daily_hist.csv"),
                  ("drivers for the next 28 days", "{out}/daily_future.csv"),
                  ("actual sales of those days", "{out}/daily_actuals.csv"))),
    Step("forecast", ("forecast", "{out}/daily_hist.csv", "--horizon", "28", "--backtest", "2",
                      "--plot", "{out}/forecast.html", "-o", "{out}/forecast.csv"),
         (("forecast with intervals", "{out}/forecast.csv"), ("forecast plot", "{out}/forecast.html"))),
    Step("forecast", ("forecast", "{out}/daily_hist.csv", "--horizon", "28", "--exog", "price,shop_open",
                      "--future", "{out}/daily_future.csv", "-o", "{out}/forecast_exog.csv"),
         (("forecast with price and shop_open", "{out}/forecast_exog.csv"),)),
    Step("forecast", ("train", "forecast", "{out}/daily_hist.csv", "--name", "daily", "--horizon", "28",
                      "--seed", "{seed}")),
    Step("forecast", ("evaluate", "--model", "daily", "--data", "{out}/daily_actuals.csv",
                      "--fail-under", "mase=1.2", "--fail-under", "coverage_error_95=0.1")),
    Step("models", ("models", "list")),
    Step("models", ("models", "verify")),
    Step("models", ("models", "export", "{first_model}", "-o", "{out}/{first_model}.tar.gz"),
         (("export of {first_model}", "{out}/{first_model}.tar.gz"),)),
)  # fmt: skip


@dataclass
class Tour:
    """Where the sample data is, where to write, and how to run mktai against the demo store."""

    sample_data: Path
    out: Path
    store: Path
    seed: int = 0
    outputs: list[tuple[str, Path]] = field(default_factory=list)

    def run(self, *args: str) -> None:
        """Run one mktai command in-process against the demo store; stop the demo if it fails."""
        import shlex

        from rich.markup import escape

        from mktai.cli import console
        from mktai.cli.app import app
        from mktai.errors import UsageError

        argv = ["--store", str(self.store), *args]
        console.info(f"\n[bold cyan]$ mktai {escape(shlex.join(args))}[/bold cyan]")
        command = typer.main.get_command(app)
        code = command.main(args=argv, prog_name="mktai", standalone_mode=False)
        if code not in (None, 0):
            raise UsageError(f"demo step 'mktai {' '.join(args)}' exited {code}")

    def output(self, label: str, path: Path) -> Path:
        """Record an output file so the demo can list it at the end."""
        self.outputs.append((label, path))
        return path

    def fill(self, template: str) -> str:
        """A step's placeholders filled in ({first_model}: the first model in the store)."""
        values = {"sample": str(self.sample_data), "out": str(self.out), "seed": str(self.seed)}
        if "{first_model}" in template:
            from mktai.store import Store

            models = Store(self.store).list()
            values["first_model"] = models[0]["name"] if models else "none"
        return template.format(**values)

    def step(self, step: Step) -> None:
        from mktai.cli import console

        if step.note:
            console.info(step.note)
        if step.action:
            PREPARE[step.action](self)
        elif step.argv:
            self.run(*(self.fill(arg) for arg in step.argv))
        for label, template in step.outputs:
            self.output(self.fill(label), Path(self.fill(template)))

    def section(self, name: str) -> None:
        """Run every step of one section of the tour, in order."""
        for step in STEPS:
            if step.section == name:
                self.step(step)


def _split_orders(tour: Tour) -> None:
    """Purchases before 2011-10-01 of the transactions sample to train on, the later ones to
    evaluate the recommendations against (a time split, as a recommender is judged)."""
    import pandas as pd

    lines = pd.read_csv(tour.sample_data / "transactions_sample.csv", dtype=str)
    later = pd.to_datetime(lines["InvoiceDate"]) >= pd.Timestamp("2011-10-01")
    lines[~later].to_csv(tour.out / "orders_train.csv", index=False)
    lines[later].to_csv(tour.out / "orders_test.csv", index=False)


def _split_sales(tour: Tour) -> None:
    """Daily sales before 2011-11-12 as history; for the 28 days after, the drivers a planner
    knows in advance (shop_open, the last known price carried forward) and the actual sales."""
    import pandas as pd

    sales = pd.read_csv(tour.sample_data / "daily_sales.csv", dtype={"series": str})
    dates = pd.to_datetime(sales["date"])
    cut = pd.Timestamp("2011-11-12")
    hist = sales[dates < cut]
    window = sales[(dates >= cut) & (dates < cut + pd.Timedelta(days=28))]
    last_price = hist.dropna(subset=["price"]).groupby("series")["price"].last()
    future = window[["date", "series", "shop_open"]].copy()
    future["price"] = future["series"].map(last_price)
    hist.to_csv(tour.out / "daily_hist.csv", index=False)
    future.to_csv(tour.out / "daily_future.csv", index=False)
    window.to_csv(tour.out / "daily_actuals.csv", index=False)


def _split_bank(tour: Tour) -> None:
    """Three quarters of the bank sample to train on, the rest held out for evaluation."""
    from mktai.data import load_table, write_table

    table = load_table(tour.sample_data / "bank_sample.csv", kind="labelled",
                       mapping={"target": "y"})  # fmt: skip
    frame = table.frame.sample(frac=1.0, random_state=tour.seed)
    cut = int(len(frame) * 0.75)
    write_table(frame.iloc[:cut].sort_index(), tour.out / "bank_train.csv")
    write_table(frame.iloc[cut:].sort_index(), tour.out / "bank_holdout.csv")


PREPARE = {"split_bank": _split_bank, "split_orders": _split_orders, "split_sales": _split_sales}


def sample_data_dir() -> Path:
    """The sample files: installed with the package (mktai/sample_data/, mapped from the
    checkout's top-level sample_data/ by pyproject.toml), else the source checkout's."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "sample_data"
    if (installed / "bank_sample.csv").is_file():
        return installed
    return package.parent / "sample_data"


def demo(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Directory for outputs (default: a new temporary directory)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed for every step.")] = 0,
) -> None:
    """Run the whole tour on sample_data/ into a throw-away store and list the outputs.

    Examples:

      mktai demo

      mktai demo --out demo-output --seed 1
    """
    from mktai.cli import console
    from mktai.errors import InputError

    data = sample_data_dir()
    if not data.is_dir():
        raise InputError(
            f"sample data not found at {data}: this installation of mktai is incomplete; "
            "reinstall it (pip install --force-reinstall mktai)"
        )
    out = out or Path(tempfile.mkdtemp(prefix="mktai-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    tour = Tour(sample_data=data, out=out, store=out / "store", seed=seed)
    console.info(f"[bold]mktai demo[/bold]: sample data {data}, outputs in {out}")
    for step in STEPS:
        tour.step(step)
    console.info("\n[bold green]demo finished.[/bold green] Outputs:")
    for label, path in tour.outputs:
        console.info(f"  {label:<28} {path}")
    console.info(f"  {'artifact store':<28} {tour.store}")
