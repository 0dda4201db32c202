"""The committed completion scripts (what users install, completions/) run in the real shells.

Not a comparison of the generator with itself: each shell loads the file from completions/ and
answers a real <TAB>. bash calls the completion function with COMP_WORDS set, as bash does;
fish answers `complete -C`; zsh runs interactively on a pseudo-terminal driven from Python (no
zpty, no fixed sleeps: the output is read until the expected candidates appear), with compsys
loaded by compinit from an $fpath holding _mktai. `.ci/run` installs zsh and fish; without them
these tests skip with the reason.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "completions"
BASH, ZSH, FISH = shutil.which("bash"), shutil.which("zsh"), shutil.which("fish")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    """A store (two models, versions, aliases) and a data file, as users have them."""
    store = tmp_path / "st"
    for name, versions in {"churn": 2, "segments": 1}.items():
        for v in range(1, versions + 1):
            (store / name / f"v{v}").mkdir(parents=True)
    (store / "churn" / "aliases.json").write_text('{"latest": 2, "production": 1}')
    (store / ".staging").mkdir()
    (tmp_path / "orders.csv").write_text("a,b\n1,2\n")
    return tmp_path


def _env(home: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "TERM": "xterm", "LANG": "C.UTF-8"}


# --------------------------------------------------------------------------- bash


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_bash_completes_from_the_committed_script(workdir: Path):
    def complete(*words: str) -> list[str]:
        program = (
            'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
            'COMP_LINE="${COMP_WORDS[*]}"; _mktai; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        result = subprocess.run(
            [BASH, "--norc", "--noprofile", "-c", program, "bash", str(SCRIPTS / "mktai.bash"),
             *words],
            cwd=workdir, capture_output=True, text=True, timeout=30, env=_env(workdir),
        )  # fmt: skip
        assert result.returncode == 0 and result.stderr == "", result.stderr
        return [line for line in result.stdout.splitlines() if line]

    result = subprocess.run([BASH, "-n", str(SCRIPTS / "mktai.bash")], capture_output=True)
    assert result.returncode == 0, result.stderr
    assert complete("mktai", "mo") == ["models"]
    assert "verify" in complete("mktai", "models", "")
    assert complete("mktai", "models", "list", "--st") == ["--store"]
    assert sorted(complete("mktai", "--store", "st", "models", "show", "")) == [
        "churn",
        "segments",
    ]
    assert sorted(complete("mktai", "models", "show", "--store", "st", "churn@")) == [
        "churn@latest",
        "churn@production",
        "churn@v1",
        "churn@v2",
    ]
    assert "propensity" in complete("mktai", "train", "")
    assert "orders.csv" in complete("mktai", "ingest", "or")
    # train KIND: the kind's own options (from its family spec) and their values
    assert complete("mktai", "train", "propensity", "orders.csv", "--class-") == ["--class-weight"]
    assert complete("mktai", "train", "demand", "orders.csv", "--class-weight", "") == [
        "balanced",
        "none",
    ]
    assert complete("mktai", "train", "--name", "x", "segments", "--mon") == ["--monetary"]
    assert complete("mktai", "train", "segments", "--monetary", "") == ["mean", "total"]
    assert complete("mktai", "train", "segments", "--clv", "") == ["true", "false"]
    assert "orders.csv" in complete("mktai", "train", "segments", "--k", "3", "")  # value skipped
    assert complete("mktai", "train", "sentiment", "orders.csv", "--class-") == []
    assert complete("mktai", "train", "--class-") == []  # no kind yet


# --------------------------------------------------------------------------- fish


@pytest.mark.skipif(FISH is None, reason="fish is not installed (apt-get install fish)")
def test_fish_completes_from_the_committed_script(workdir: Path):
    script = SCRIPTS / "mktai.fish"
    result = subprocess.run([FISH, "--no-execute", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

    def complete(line: str) -> list[str]:
        out = subprocess.run(
            [FISH, "--no-config", "-c", f"source {script}; complete -C{line!r}"],
            cwd=workdir, capture_output=True, text=True, timeout=30, env=_env(workdir),
        )  # fmt: skip
        assert out.returncode == 0 and out.stderr == "", out.stderr
        return [row.split("\t")[0] for row in out.stdout.splitlines()]

    assert complete("mktai mo") == ["models"]
    assert "verify" in complete("mktai models ")
    assert complete("mktai models list --st") == ["--store"]
    assert sorted(complete("mktai --store st models show ")) == ["churn", "segments"]
    assert "churn@production" in complete("mktai models show --store=st churn@")
    assert "propensity" in complete("mktai train ")
    assert "orders.csv" in complete("mktai ingest ")
    # train KIND: the kind's own options (from its family spec) and their values
    assert complete("mktai train propensity orders.csv --class-") == ["--class-weight"]
    assert complete("mktai train demand orders.csv --class-weight ") == ["balanced", "none"]
    assert complete("mktai train --name x segments --mon") == ["--monetary"]
    assert complete("mktai train segments --monetary ") == ["mean", "total"]
    assert "orders.csv" in complete("mktai train segments --k 3 ")  # the value is skipped
    assert complete("mktai train sentiment orders.csv --class-") == []
    assert complete("mktai train --class-") == []  # no kind yet


# --------------------------------------------------------------------------- zsh


class Zsh:
    """An interactive `zsh -f` on a pseudo-terminal, with compinit and the committed _mktai."""

    def __init__(self, cwd: Path) -> None:
        import pty

        fpath = cwd / "fpath"
        fpath.mkdir()
        shutil.copy(SCRIPTS / "_mktai", fpath / "_mktai")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: the shell
            os.chdir(cwd)
            os.execve(ZSH, [ZSH, "-f", "-i"], _env(cwd))
        self.buffer = ""
        self.queries = 0
        self.send(
            f"PROMPT='%% '; fpath=({fpath} $fpath); autoload -U compinit; compinit -u -D; "
            "unsetopt beep listbeep; LISTMAX=1000; "
            '_mktai_test_dump() { zle -I; print -r -- "BUFFER=[$BUFFER]END"; BUFFER= }; '
            "zle -N _mktai_test_dump; bindkey '^Xd' _mktai_test_dump; print READY-$((6*7))\n"
        )
        self.read_until("READY-42")

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def read_until(self, *needles: str, timeout: float = 30.0) -> str:
        """Read the terminal until every needle has appeared (the observable state)."""
        deadline = time.monotonic() + timeout
        while not all(n in ANSI.sub("", self.buffer) for n in needles):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"zsh never showed {needles}; screen: {self.buffer!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    self.buffer += os.read(self.fd, 65536).decode(errors="replace")
                except OSError:  # the shell exited
                    raise AssertionError(f"zsh exited; screen: {self.buffer!r}") from None
        return ANSI.sub("", self.buffer)

    def tab(self, line: str, *needles: str) -> str:
        """Type LINE, press <TAB>, wait for NEEDLES; then clear the line (Ctrl-U) and wait
        until the shell has run a command, so the next line is typed at a fresh prompt."""
        self.buffer = ""
        self.send(line + "\t")
        self.read_until(*needles)
        self.send("\x18d")  # the _mktai_test_dump widget: prints the edited line, clears it
        screen = self.read_until("BUFFER=[", "]END")
        self.line = screen[screen.rindex("BUFFER=[") + 8 : screen.rindex("]END")]
        self.queries += 1
        self.send(f"print DONE{self.queries}-$((40+2))\n")
        self.read_until(f"DONE{self.queries}-42")
        return screen

    def close(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.mark.skipif(ZSH is None, reason="zsh is not installed (apt-get install zsh)")
def test_zsh_parses_and_completes_from_the_committed_script(workdir: Path):
    result = subprocess.run([ZSH, "-n", str(SCRIPTS / "_mktai")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    shell = Zsh(workdir)
    try:
        # one candidate: the line is completed in place
        shell.tab("mktai mo", "dels")
        assert shell.line == "mktai models "
        # several: listed below the line, with descriptions
        listing = shell.tab("mktai models ", "verify", "show", "prune")
        assert "list" in listing and "parse error" not in listing
        refs = shell.tab("mktai --store st models show churn@", "churn@production", "churn@v2")
        assert "churn@v1" in refs and "churn@latest" in refs
        kinds = shell.tab("mktai train ", "propensity", "segments", "sentiment")
        assert "demand" in kinds
        shell.tab("mktai ingest --out", "put")
        assert shell.line == "mktai ingest --output="
        # train KIND: the kind's own options (from its family spec) and their values
        shell.tab("mktai train propensity orders.csv --class-w", "eight")
        assert shell.line == "mktai train propensity orders.csv --class-weight="
        values = shell.tab("mktai train --name x segments orders.csv --monetary ", "mean", "total")
        assert "parse error" not in values
        shell.tab("mktai train sentiment orders.csv --nb-p", "ower")
        assert shell.line == "mktai train sentiment orders.csv --nb-power="
    finally:
        shell.close()
