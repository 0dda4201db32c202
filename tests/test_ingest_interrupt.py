"""Ctrl-C during `mktai ingest` exits 130 and leaves no temp file and no clean file without its
rejects, wherever it lands while rows are read.

Interrupted in its first seconds, the command used to hang for good (Arrow's thread pool waiting
at exit for a read-ahead task that called back into Python) or crash (SIGSEGV / abort), now and
then: 5 of 18 interrupts of a niced run on this file, 0 of 18 now. A reader stopped early is run
to its end (data.read._drain) and stopped when the command stops (Stream.close), not when the
traceback holding it is dropped at exit; the rejects are published before the clean file. The
interrupts are real SIGINTs to a real process, sampled from 0.3 s after the output's temp file
appears (the imports done) to the end of the run: a race is only ever sampled, so this is a
net, not a proof. Known gap: an interrupt in the instant the reader opens (0-0.1 s after the
temp file appears) can still crash the process at exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
TRANSACTIONS = ROOT.parent / "shared" / "data" / "transactions.csv.gz"


@pytest.mark.skipif(not TRANSACTIONS.exists(), reason="../shared/data/transactions.csv.gz absent")
def test_ctrl_c_exits_130_and_leaves_no_files(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MKTAI_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, "-m", "mktai.cli.app", "ingest", str(TRANSACTIONS),
               "-o", "clean.parquet", "--quiet"]  # fmt: skip
    finished = 0
    for delay in (0.3, 0.45, 0.6, 0.8, 1.0, 1.2, 1.5):
        run = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE)
        # from when the output's temp file exists (imports done, the reader about to open)
        while not os.listdir(tmp_path) and run.poll() is None:
            time.sleep(0.005)
        time.sleep(delay)
        run.send_signal(signal.SIGINT)
        try:
            _, stderr = run.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            run.kill()
            run.communicate()
            pytest.fail(f"mktai ingest hung after Ctrl-C at {delay} s")
        # 0: done before the signal; -SIGINT: done, the signal came while the interpreter was
        # shutting down (its handler is gone then). Either way the outputs are complete.
        if run.returncode in (0, -signal.SIGINT):
            finished += 1
            assert sorted(os.listdir(tmp_path)) == ["clean.parquet", "clean.rejects.csv"]
            assert pq.read_metadata(tmp_path / "clean.parquet").num_rows > 500_000
            for name in os.listdir(tmp_path):
                os.remove(tmp_path / name)
            continue
        assert run.returncode == 130, (delay, run.returncode, stderr.decode()[-500:])
        assert b"Traceback" not in stderr, stderr.decode()[-500:]
        # no temp file, no clean file without its rejects (the rejects are published first)
        left = sorted(os.listdir(tmp_path))
        assert left in ([], ["clean.rejects.csv"], ["clean.parquet", "clean.rejects.csv"]), left
        for name in left:
            os.remove(tmp_path / name)
    assert finished < 7, "every run finished before its interrupt: nothing was tested"
