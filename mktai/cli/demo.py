"""`mktai demo`: the whole tour on sample_data/ into a throw-away store.

Each command module may define `demo_step(tour: Tour) -> None`; the demo runs them in the order
of STEPS through the real CLI, so the demo is also a smoke test of the user contract.
"""

from __future__ import annotations

import importlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

STEPS = ["ingest", "segment", "sentiment", "train", "evaluate", "models"]


@dataclass
class Tour:
    """What a demo step needs: where the sample data is, where to write, how to run mktai."""

    sample_data: Path
    out: Path
    store: Path
    seed: int = 0
    outputs: list[tuple[str, Path]] = field(default_factory=list)

    def run(self, *args: str) -> None:
        """Run one mktai command in-process against the demo store; stop the demo if it fails."""
        from mktai.cli import console
        from mktai.cli.app import app
        from mktai.errors import UsageError

        argv = ["--store", str(self.store), *args]
        import shlex

        from rich.markup import escape

        console.info(f"\n[bold cyan]$ mktai {escape(shlex.join(args))}[/bold cyan]")
        command = typer.main.get_command(app)
        code = command.main(args=argv, prog_name="mktai", standalone_mode=False)
        if code not in (None, 0):
            raise UsageError(f"demo step 'mktai {' '.join(args)}' exited {code}")

    def output(self, label: str, path: Path) -> Path:
        """Record an output file so the demo can list it at the end."""
        self.outputs.append((label, path))
        return path


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
    """Run the whole tour on sample_data/ into a throw-away store and list the outputs."""
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
    for name in STEPS:
        module = importlib.import_module(f"mktai.cli.{name}")
        step = getattr(module, "demo_step", None)
        if step is not None:
            step(tour)
    console.info("\n[bold green]demo finished.[/bold green] Outputs:")
    for label, path in tour.outputs:
        console.info(f"  {label:<28} {path}")
    console.info(f"  {'artifact store':<28} {tour.store}")
