"""Real-process tests of the store: kill -9 mid-save, concurrent savers, CLI exit code on damage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mktai.store import Store

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[1]

# A saver that writes a large model slowly: it announces when it is inside write(), then keeps
# writing 1 MiB blocks (up to 300 MiB) until it is killed.
SLOW_SAVER = r"""
import sys, time
from pathlib import Path
from mktai.store import Store

store, marker = Path(sys.argv[1]), Path(sys.argv[2])

def write(directory):
    block = b"\xab" * (1 << 20)
    with open(directory / "weights.bin", "wb") as handle:
        for i in range(300):
            handle.write(block)
            handle.flush()
            if i == 8:
                marker.write_text("inside write")
            time.sleep(0.01)
    (directory / "head.json").write_text("{}")

Store(store).save("big", "demand", write, {"algorithm": "slow"})
print("finished")
"""

# A saver that saves small versions in a tight loop, to be killed at an arbitrary moment
# (inside write, hashing, fsync, under the lock, during rename or alias update).
LOOP_SAVER = r"""
import sys
from pathlib import Path
from mktai.store import Store

store = Store(Path(sys.argv[1]))
def write(directory):
    for i in range(20):
        (directory / f"part{i}.bin").write_bytes(bytes([i]) * 20000)
while True:
    store.save("loop", "demand", write, {})
"""

# Savers that wait at a barrier file, then all save the same name at once.
BARRIER_SAVER = r"""
import sys, time
from pathlib import Path
from mktai.store import Store

store, barrier, who, count = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
(barrier.parent / f"ready-{who}").write_text("")
while not barrier.exists():
    time.sleep(0.005)
for i in range(count):
    def write(directory, i=i):
        (directory / "model.json").write_text(f'{{"who": "{who}", "i": {i}}}')
    version = Store(store).save("shared", "demand", write, {"who": who})
    print(version.version, flush=True)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _mktai(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from mktai.cli.app import main; sys.argv[0] = 'mktai'; main()"
    return subprocess.run(
        [PYTHON, "-c", code, *args], capture_output=True, text=True, env=_env(), timeout=60
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {path}")
        time.sleep(0.01)


def _wait_for_versions(store: Store, name: str, count: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while len(store.versions(name)) < count:
        if proc.poll() is not None:
            raise AssertionError(f"saver exited early with {proc.returncode}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {count} versions of {name}")
        time.sleep(0.005)


def _complete_model(directory: Path) -> None:
    (directory / "model.json").write_text('{"complete": true}')


def test_kill_9_inside_write_leaves_no_half_version(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = Store(root)
    store.save("big", "demand", _complete_model, {"algorithm": "ok"})
    marker = tmp_path / "inside"
    proc = subprocess.Popen(
        [PYTHON, "-c", SLOW_SAVER, str(root), str(marker)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _wait_for(marker, proc)  # written after 9 MiB are flushed: the saver is inside write()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    # the half-written version is in .staging (several MB), never visible as a version
    staged = [p for p in (root / ".staging").iterdir()]
    assert len(staged) == 1 and (staged[0] / "weights.bin").stat().st_size >= 9 << 20
    assert store.versions("big") == [1]
    assert [v["version"] for v in store.list()[0]["versions"]] == [1]
    assert store.load("big").manifest["algorithm"] == "ok"
    listed = _mktai("models", "list", "--store", str(root), "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"big@v1"' in listed.stdout and "big@v2" not in listed.stdout
    verified = _mktai("models", "verify", "--store", str(root))
    assert verified.returncode == 0, verified.stderr
    # the next save is unaffected and gets the next number
    assert store.save("big", "demand", _complete_model, {}).version == 2


def test_kill_9_at_random_moments_never_corrupts(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = Store(root)
    for round_ in range(3):
        proc = subprocess.Popen([PYTHON, "-c", LOOP_SAVER, str(root)], env=_env())
        # kill once this saver has completed 1, 2, then 3 versions (an observable state, not a
        # fixed delay, so a loaded machine only makes it slower): it is then somewhere in its
        # next save, a different moment each round
        _wait_for_versions(store, "loop", len(store.versions("loop")) + 1 + round_, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert store.verify() == []
    numbers = store.versions("loop")
    assert len(numbers) >= 6
    assert numbers == sorted(set(numbers))
    for number in numbers:
        assert len(store.load(f"loop@v{number}").manifest["files"]) == 20
    assert store.load("loop").version == numbers[-1]
    assert store.save("loop", "demand", _complete_model, {}).version > numbers[-1]


def test_concurrent_savers_get_distinct_versions(tmp_path: Path) -> None:
    root = tmp_path / "store"
    barrier = tmp_path / "go"
    workers, per_worker = 4, 5
    procs = [
        subprocess.Popen(
            [PYTHON, "-c", BARRIER_SAVER, str(root), str(barrier), f"w{i}", str(per_worker)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(workers)
    ]
    for i, proc in enumerate(procs):
        _wait_for(tmp_path / f"ready-w{i}", proc)
    barrier.write_text("go")
    numbers = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        numbers += [int(line) for line in out.split()]
    total = workers * per_worker
    assert sorted(numbers) == list(range(1, total + 1))
    store = Store(root)
    assert store.versions("shared") == list(range(1, total + 1))
    assert store.verify() == []
    assert store.aliases("shared")["latest"] == total
    whos = [store.load(f"shared@v{n}").manifest["who"] for n in range(1, total + 1)]
    assert sorted(set(whos)) == [f"w{i}" for i in range(workers)]


def test_flipped_byte_makes_verify_and_load_exit_3(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = Store(root)
    version = store.save(
        "churn", "propensity", lambda d: (d / "w.bin").write_bytes(bytes(4096)), {}
    )
    assert _mktai("models", "verify", "churn", "--store", str(root)).returncode == 0
    path = version.path / "w.bin"
    data = bytearray(path.read_bytes())
    data[1234] ^= 0x80
    path.write_bytes(bytes(data))
    result = _mktai("models", "verify", "churn", "--store", str(root))
    assert result.returncode == 3
    assert "w.bin" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    shown = _mktai(
        "models", "export", "churn", "-o", str(tmp_path / "x.tar.gz"), "--store", str(root)
    )
    assert shown.returncode == 3 and "w.bin" in shown.stderr
    assert not (tmp_path / "x.tar.gz").exists()


def test_models_list_stays_light(tmp_path: Path) -> None:
    root = tmp_path / "store"
    Store(root).save("m", "demand", _complete_model, {"metrics": {"holdout": {"rmse": 1.0}}})
    heavy = ["pandas", "numpy", "sklearn", "scipy", "tensorflow", "keras", "surprise"]
    code = (
        "import sys\n"
        "from mktai.cli.app import app\n"
        "try:\n"
        f"    app(['models', 'list', '--store', {str(root)!r}])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n"
    )
    result = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["MODEL", "VERSION"]
    assert "m " in result.stdout and "holdout.rmse=1" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


# Records an evaluation but is killed (-9) just before the new manifest is renamed into place,
# as a cron timeout can kill `mktai evaluate`.
DYING_EVALUATOR = r"""
import os, signal, sys
from pathlib import Path
from mktai.store import Store

real_replace = os.replace
def replace_then_die(src, dst, *args, **kwargs):
    if str(dst).endswith("manifest.json"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)

os.replace = replace_then_die
Store(Path(sys.argv[1])).record_evaluation("m@v1", {"auc": 0.5})
"""


def test_kill_9_while_recording_an_evaluation_leaves_the_version_loadable(
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    store = Store(root)
    store.save("m", "demand", _complete_model, {"algorithm": "ok"})
    proc = subprocess.run(
        [PYTHON, "-c", DYING_EVALUATOR, str(root)], env=_env(), capture_output=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert store.verify() == []
    assert store.load("m@v1").manifest["evaluations"] == []  # the old manifest, intact
    assert store.record_evaluation("m@v1", {"auc": 0.6}).manifest["evaluations"][0]["auc"] == 0.6
