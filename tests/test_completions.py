"""Shell completion scripts: up to date with the app, and they really complete in bash/zsh/fish."""

from __future__ import annotations

import enum
import shutil
import subprocess
from pathlib import Path
from typing import Annotated, Literal

import pytest
import typer
import typer.main

from mktai.cli import completions
from mktai.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "completions"
BASH = shutil.which("bash")
ZSH = shutil.which("zsh")
FISH = shutil.which("fish")


def _command_tree(command, path=()):
    """(path, click command) for every command, walked straight from click (not the generator)."""
    yield path, command
    if hasattr(command, "list_commands"):  # a group (mktai's loads its commands lazily)
        ctx = command.context_class(command, info_name=path[-1] if path else "mktai")
        for name in sorted(command.list_commands(ctx)):
            yield from _command_tree(command.get_command(ctx, name), (*path, name))


TREE = list(_command_tree(typer.main.get_command(app)))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("completions")
    completions.write_all(out)
    return out


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    """A store laid out as DESIGN §3 (name/vN/, aliases.json) plus a data file beside it."""
    root = tmp_path / "st"
    for name, versions in {"churn": 2, "segments": 1}.items():
        for v in range(1, versions + 1):
            (root / name / f"v{v}").mkdir(parents=True)
    (root / "churn" / "aliases.json").write_text('{"latest": 2, "production": 1}')
    (root / ".staging").mkdir()
    (tmp_path / "orders.csv").write_text("a,b\n1,2\n")
    return root


# --------------------------------------------------------------------------- freshness


@pytest.mark.parametrize("file_name", sorted(completions.SHELL_FILES.values()))
def test_committed_scripts_are_up_to_date(generated: Path, file_name: str):
    committed = COMMITTED / file_name
    assert committed.is_file(), f"completions/{file_name} is missing: run `make completions`"
    assert committed.read_bytes() == (generated / file_name).read_bytes(), (
        f"completions/{file_name} is out of date with the CLI: run `make completions` and commit it"
    )


def test_generation_is_deterministic(generated: Path, tmp_path: Path):
    completions.write_all(tmp_path)
    for file_name in completions.SHELL_FILES.values():
        assert (tmp_path / file_name).read_bytes() == (generated / file_name).read_bytes()


def test_check_mode_reports_stale_scripts(tmp_path: Path, capsys):
    completions.write_all(tmp_path)
    assert completions.main([str(tmp_path), "--check"]) == 0
    (tmp_path / "mktai.fish").write_text("# edited by hand\n")
    assert completions.main([str(tmp_path), "--check"]) == 1
    assert "make completions" in capsys.readouterr().err


def _expected_forms(file_name: str, path: tuple[str, ...], opt: str | None) -> str:
    """How a command (or one of its options) is spelled in each generated script."""
    if opt is None:
        return {
            "mktai.bash": f"'{' '.join(path)}')",
            "_mktai": f"({path[-1]}) _mktai",
            "mktai.fish": f"-a '{path[-1]}'",
        }[file_name]
    if file_name == "mktai.fish":
        return f"-l '{opt[2:]}'" if opt.startswith("--") else f"-s '{opt[1:]}'"
    return opt


@pytest.mark.parametrize("file_name", sorted(completions.SHELL_FILES.values()))
def test_every_command_and_option_is_in_each_script(generated: Path, file_name: str):
    text = (generated / file_name).read_text()
    for path, command in TREE:
        if path:
            form = _expected_forms(file_name, path, None)
            assert form in text, f"command {' '.join(path)} missing from {file_name}"
        for param in command.params:
            if getattr(param, "hidden", False):
                continue
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    form = _expected_forms(file_name, path, opt)
                    assert form in text, f"{opt} of {' '.join(path)} missing from {file_name}"


@pytest.mark.parametrize("file_name", sorted(completions.SHELL_FILES.values()))
def test_every_family_option_is_in_each_script(generated: Path, file_name: str):
    from mktai.tasks import FAMILIES, spec_of_family

    text = (generated / file_name).read_text()
    for family_name in FAMILIES:
        for param in spec_of_family(family_name).params:
            form = {"mktai.bash": f" {param.flag}", "_mktai": f"'{param.flag}=[",
                    "mktai.fish": f"-l '{param.flag[2:]}'"}[file_name]  # fmt: skip
            assert form in text, f"{param.flag} of {family_name} missing from {file_name}"


# --------------------------------------------------------------------------- bash


def bash_complete(script: Path, words: list[str], cwd: Path, env: dict | None = None) -> list[str]:
    """Run the completion function the way bash does on <TAB> and return COMPREPLY."""
    program = (
        'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
        'COMP_LINE="${COMP_WORDS[*]}"; _mktai; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", program, "bash", str(script), *words],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")


@needs_bash
def test_bash_completes_commands_and_subcommands(generated: Path, tmp_path: Path):
    script = generated / "mktai.bash"
    got = bash_complete(script, ["mktai", "mo"], tmp_path)
    assert "models" in got and all(w.startswith("mo") for w in got)
    assert "list" in bash_complete(script, ["mktai", "models", ""], tmp_path)
    top = {path[0] for path, _ in TREE if len(path) == 1}
    assert set(bash_complete(script, ["mktai", ""], tmp_path)) == top
    # global options before the command are skipped, with their value
    assert "list" in bash_complete(script, ["mktai", "--store", "x", "-q", "models", ""], tmp_path)
    assert "list" in bash_complete(script, ["mktai", "--store", "=", "x", "models", ""], tmp_path)


@needs_bash
def test_bash_completes_options_and_their_values(generated: Path, tmp_path: Path, store: Path):
    script = generated / "mktai.bash"
    assert bash_complete(script, ["mktai", "models", "list", "--st"], tmp_path) == ["--store"]
    assert "--help" in bash_complete(script, ["mktai", "ingest", "--"], tmp_path)
    # --store takes a directory: the store, never the CSV file beside it
    assert bash_complete(script, ["mktai", "--store", ""], tmp_path) == ["st"]
    assert bash_complete(script, ["mktai", "--store", "=", ""], tmp_path) == ["st"]
    # ingest's positional arguments are data files
    assert "orders.csv" in bash_complete(script, ["mktai", "ingest", "or"], tmp_path)


@needs_bash
def test_bash_completes_stored_model_refs(generated: Path, tmp_path: Path, store: Path):
    script = generated / "mktai.bash"
    names = bash_complete(script, ["mktai", "--store", "st", "models", "show", ""], tmp_path)
    assert sorted(names) == ["churn", "segments"]  # .staging is never offered
    refs = bash_complete(script, ["mktai", "models", "show", "--store", "st", "churn@"], tmp_path)
    assert sorted(refs) == ["churn@latest", "churn@production", "churn@v1", "churn@v2"]
    from_env = bash_complete(
        script, ["mktai", "models", "rm", "s"], tmp_path, env={"MKTAI_STORE": str(store)}
    )
    assert from_env == ["segments"]
    # the default store is ./mktai-store
    store.rename(tmp_path / "mktai-store")
    assert bash_complete(script, ["mktai", "models", "show", "c"], tmp_path) == ["churn"]


class Fmt(enum.StrEnum):
    csv = "csv"
    parquet = "parquet"


def _toy_app() -> typer.Typer:
    toy = typer.Typer(name="mktai")

    @toy.callback()
    def main() -> None:
        """Toy."""

    @toy.command("export")
    def export(
        model: Annotated[str, typer.Argument(help="Model reference.")],
        fmt: Annotated[Fmt, typer.Option("--format", "-f")] = Fmt.csv,
        level: Annotated[Literal["low", "high"], typer.Option("--level")] = "low",
        out_dir: Annotated[
            Path | None, typer.Option("--out-dir", file_okay=False, dir_okay=True)
        ] = None,
        column: Annotated[str | None, typer.Option("--column")] = None,
    ) -> None:
        """Export."""

    @toy.command("fit")
    def fit(
        kind: Annotated[str, typer.Argument()],
        data_kind: Annotated[str | None, typer.Option("--kind")] = None,
    ) -> None:
        """Fit."""

    return toy


@needs_bash
def test_value_hints_from_the_click_types(tmp_path: Path, store: Path):
    toy = completions.describe_app(_toy_app())
    script = tmp_path / "toy.bash"
    script.write_text(completions.render_bash(toy))
    (tmp_path / "adir").mkdir()
    assert bash_complete(script, ["mktai", "export", "m", "--format", ""], tmp_path) == [
        "csv",
        "parquet",
    ]
    assert bash_complete(script, ["mktai", "export", "m", "-f", "p"], tmp_path) == ["parquet"]
    assert bash_complete(script, ["mktai", "export", "--level", "h"], tmp_path) == ["high"]
    assert sorted(bash_complete(script, ["mktai", "export", "--out-dir", ""], tmp_path)) == [
        "adir",
        "st",
    ]
    assert bash_complete(script, ["mktai", "export", "--column", ""], tmp_path) == []
    assert sorted(bash_complete(script, ["mktai", "--store", "st", "export", ""], tmp_path)) == [
        "churn",
        "segments",
    ]


@needs_bash
def test_kind_values_come_from_the_registries(tmp_path: Path):
    from mktai.data.schema import KINDS as DATASET_KINDS
    from mktai.tasks import kinds

    script = tmp_path / "toy.bash"
    script.write_text(completions.render_bash(completions.describe_app(_toy_app())))
    assert sorted(bash_complete(script, ["mktai", "fit", ""], tmp_path)) == kinds()
    got = bash_complete(script, ["mktai", "fit", "x", "--kind", ""], tmp_path)
    assert sorted(got) == sorted(DATASET_KINDS)


# --------------------------------------------------------------------------- zsh and fish


@pytest.mark.skipif(ZSH is None, reason="zsh is not installed (syntax check skipped)")
def test_zsh_script_parses(generated: Path):
    result = subprocess.run([ZSH, "-n", str(generated / "_mktai")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(ZSH is None, reason="zsh is not installed")
def test_zsh_completes_in_a_real_shell(generated: Path, tmp_path: Path, store: Path):
    """Drive an interactive zsh through a pty (zsh/zpty) and read what <TAB> produced."""
    fdir = tmp_path / "fpath"
    fdir.mkdir()
    shutil.copy(generated / "_mktai", fdir / "_mktai")
    driver = tmp_path / "drive.zsh"
    driver.write_text(
        "zmodload zsh/zpty\n"
        "zpty z zsh -f -i\n"
        f"zpty -w z \"PROMPT='> '; fpath=({fdir} \\$fpath); autoload -U compinit; compinit -u -D;"
        ' unsetopt beep listbeep; LISTMAX=1000"\n'
        "zpty -n -w z \"$1\"$'\\t'\n"
        'zpty -r z out "*$2*"\n'  # blocks until the completion shows up
        "sleep 0.2; while zpty -r -t z more; do out+=$more; done\n"
        "print -r -- $out\n"
        "zpty -d z\n"
    )

    def drive(line: str, expect: str) -> str:
        result = subprocess.run(
            [ZSH, "-f", str(driver), line, expect],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "mktai models" in drive("mktai mo", "models")
    listing = drive("mktai models ", "verify")
    assert "list" in listing and "show" in listing
    assert "churn@production" in drive("mktai --store st models show churn@", "production")


@pytest.mark.skipif(FISH is None, reason="fish is not installed (syntax check skipped)")
def test_fish_script_parses_and_completes(generated: Path, tmp_path: Path, store: Path):
    script = generated / "mktai.fish"
    result = subprocess.run([FISH, "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

    def complete(line: str) -> list[str]:
        program = f"source {script}; complete -C{line!r}"
        out = subprocess.run(
            [FISH, "--no-config", "-c", program],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stderr
        return [row.split("\t")[0] for row in out.stdout.splitlines()]

    assert complete("mktai mo") == ["models"]
    assert "list" in complete("mktai models ")
    assert complete("mktai models list --st") == ["--store"]
    assert sorted(complete("mktai --store st models show ")) == ["churn", "segments"]
    assert "churn@v2" in complete("mktai models show --store=st churn@")
    assert "orders.csv" in complete("mktai ingest ")
