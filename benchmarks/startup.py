"""Start-up time of mktai against a bare typer app with the same command names.

Why: every cron job, CI step and tab-less shell call pays the start-up, so `mktai --help`,
`mktai models list` and `mktai ingest --help` must cost little more than typer itself
(target <= 1.25x the baseline's `--help`). The baseline is generated into a temporary directory
from the real command tree: same names, same nesting, one stub function each, nothing else
imported. Runs alternate between the variants (best of N) so background load hits them alike.

    .venv/bin/python benchmarks/startup.py [--runs 15]

When a ratio is over target, the modules mktai imports beyond the baseline are listed with their
cumulative import time (python -X importtime), which is where to look.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.25


def command_tree() -> dict:
    """{name: subtree} of the mktai app (imports only the light CLI modules)."""
    import typer.main

    from mktai.cli.app import app

    def walk(command) -> dict:
        return {name: walk(sub) for name, sub in getattr(command, "commands", {}).items()}

    return walk(typer.main.get_command(app))


def baseline_source(tree: dict) -> str:
    """A typer app with the same command names and nothing else."""
    lines = [
        "import typer",
        "",
        "app = typer.Typer(name='mktai', no_args_is_help=True, add_completion=False)",
        "",
        "",
        "@app.callback()",
        "def main() -> None:",
        '    """Baseline."""',
        "",
    ]
    counter = 0

    def emit(parent: str, subtree: dict) -> None:
        nonlocal counter
        for name, children in subtree.items():
            counter += 1
            if children:
                group = f"group{counter}"
                lines.append(f"{group} = typer.Typer(help='{name}', no_args_is_help=True)")
                emit(group, children)
                lines.append(f"{parent}.add_typer({group}, name='{name}')")
            else:
                lines.extend(
                    [
                        "",
                        f"@{parent}.command('{name}')",
                        f"def command{counter}() -> None:",
                        f'    """{name}."""',
                        f"    typer.echo('{name}')",
                        "",
                    ]
                )

    emit("app", tree)
    lines += ["", "if __name__ == '__main__':", "    app()", ""]
    return "\n".join(lines)


def time_once(argv: list[str], env: dict, cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.decode()}")
    return elapsed


def import_profile(argv: list[str], env: dict, cwd: Path) -> dict[str, int]:
    """{module: self import microseconds} from python -X importtime."""
    env = {**env, "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    profile = {}
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            profile[match.group(2)] = int(match.group(1))
    return profile


def extra_imports(argv: list[str], baseline: list[str], env: dict, cwd: Path) -> list[tuple]:
    """(package, ms, modules) for modules argv imports and the baseline does not, largest first."""
    base = import_profile(baseline, env, cwd)
    packages: dict[str, list] = {}
    for module, us in import_profile(argv, env, cwd).items():
        if module not in base:
            entry = packages.setdefault(module.split(".")[0], [0, []])
            entry[0] += us
            entry[1].append(module)
    rows = [(pkg, us / 1000, mods) for pkg, (us, mods) in packages.items()]
    return sorted(rows, key=lambda row: -row[1])


HINTS = {
    "pydantic": (
        "typer (>= 0.29) imports pydantic the first time it coerces a parameter value "
        "(typer._coercion.build_runtime_param), and every sub-command call coerces at least "
        "--store: give plain str/Path/int parameters a light coercion that skips pydantic"
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per variant (best is kept)")
    ns = parser.parse_args()

    python = sys.executable
    tree = command_tree()
    with tempfile.TemporaryDirectory(prefix="mktai-startup-") as tmp:
        work = Path(tmp)
        baseline = work / "baseline_app.py"
        baseline.write_text(baseline_source(tree))
        store = work / "store"
        env = {**os.environ, "MKTAI_STORE": str(store), "COLUMNS": "100"}
        env.pop("PYTHONPROFILEIMPORTTIME", None)
        script = Path(python).with_name("mktai")  # the installed console script, as users run it
        if script.is_file():
            mktai = [str(script)]
        else:
            mktai = [python, "-c", "import sys; from mktai.cli.app import main; sys.exit(main())"]
        variants = {
            "python -c pass (interpreter only)": [python, "-c", "pass"],
            "baseline typer app --help": [python, str(baseline), "--help"],
            "mktai --help": [*mktai, "--help"],
            "mktai models list --store tmp": [*mktai, "models", "list", "--store", str(store)],
            "mktai ingest --help": [*mktai, "ingest", "--help"],
        }
        for argv in variants.values():  # warm the file cache and .pyc files
            time_once(argv, env, work)
        best = {name: float("inf") for name in variants}
        for _ in range(ns.runs):
            for name, argv in variants.items():
                best[name] = min(best[name], time_once(argv, env, work))

        base = best["baseline typer app --help"]
        print(f"start-up, best of {ns.runs} runs (target <= {TARGET:.2f}x the baseline --help)")
        print(f"{'command':<36} {'ms':>8} {'x baseline':>11}  verdict")
        over = []
        for name, seconds in best.items():
            ratio = seconds / base
            checked = name.startswith("mktai")
            verdict = ("ok" if ratio <= TARGET else "SLOW") if checked else ""
            if checked and ratio > TARGET:
                over.append(name)
            print(f"{name:<36} {seconds * 1000:8.1f} {ratio:11.2f}  {verdict}")

        if over:
            print("\nimported beyond the baseline (self import ms per package), largest first:")
            hints = set()
            for name in over:
                rows = extra_imports(
                    variants[name], variants["baseline typer app --help"], env, work
                )
                listing = ", ".join(f"{pkg} {ms:.1f} ({len(mods)})" for pkg, ms, mods in rows[:6])
                print(f"  {name}: {listing}")
                hints.update(pkg for pkg, _, _ in rows if pkg in HINTS)
            for pkg in sorted(hints):
                print(f"hint: {HINTS[pkg]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
