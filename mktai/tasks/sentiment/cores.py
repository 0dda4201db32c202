"""How many worker processes a large scoring batch gets: the cores that are free right now.

Why not simply every usable core: on a machine where other jobs are running, CFS shares each
core between our worker and theirs, so a worker gets half a core while the run still pays for a
second process (start-up, copy-on-write faults, the results' trip back). Throughput then drops by
more than the share of the machine the other work takes, and wall time drifts far from CPU time
divided by the workers. Counting the cores left idle over a short sample of /proc/stat gives a
worker count that follows the machine: two workers on two quiet cores, one when another
CPU-bound process holds a core. Work under `nice` counts as busy too: with autogroup or cgroups
(the Linux default for sessions and services) a niced job in another group still gets its fair
share of a core. MKTAI_JOBS=N overrides the rule (capped by the usable cores).
"""

from __future__ import annotations

import os
import sys
import time

MAX_WORKERS = 8
SAMPLE_SECONDS = 0.1
# /proc/stat cpuN columns: user nice system idle iowait irq softirq steal (guest is in user).
_IDLE = (3, 4)  # idle, iowait: every other column is a core some work is using


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota (a
    container limited to 2 CPUs on a 64-core host gets 2 workers, not 64)."""
    import math

    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]  # noqa: SIM115
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cores


def cpu_ticks(cpus: set[int], text: str | None = None) -> tuple[int, int]:
    """(busy, total) clock ticks of the given CPUs since boot, from /proc/stat (or TEXT)."""
    if text is None:
        with open("/proc/stat", encoding="ascii") as handle:
            text = handle.read()
    busy = total = 0
    for line in text.splitlines():
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        values = [int(v) for v in rest.split()[:8]]
        total += sum(values)
        busy += sum(values) - sum(values[i] for i in _IDLE)
    return busy, total


def free_cores(cores: int, seconds: float = SAMPLE_SECONDS) -> float:
    """Cores of this process's CPU set left idle by other work over SECONDS, capped
    at CORES; CORES itself when /proc/stat cannot be read (not Linux, a sandbox)."""
    cpus = os.sched_getaffinity(0)
    try:
        busy0, total0 = cpu_ticks(cpus)
        time.sleep(seconds)  # this process sleeps meanwhile: what is busy is other work
        busy1, total1 = cpu_ticks(cpus)
    except (OSError, ValueError):
        return float(cores)
    if total1 <= total0:
        return float(cores)
    busy_share = (busy1 - busy0) / (total1 - total0)
    return min(float(cores), len(cpus) * (1.0 - busy_share))


class IdleProbe:
    """free_cores() measured over a stretch of this process's own work (reading the input)
    instead of a 0.1 s sleep before scoring: the ticks this process spent meanwhile (all its
    threads) are taken out of the busy ones, what remains is other work. A stretch shorter
    than SAMPLE_SECONDS is topped up with a sleep."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.cpus: set[int] = set()
        self.ticks: tuple[int, int] | None = None
        try:
            self.cpus = os.sched_getaffinity(0)
            self.ticks = cpu_ticks(self.cpus)
        except (AttributeError, OSError, ValueError):  # not Linux, or no /proc/stat
            pass
        self.own = _own_seconds()

    def free_cores(self, cores: int) -> float:
        if self.ticks is None:
            return float(cores)
        time.sleep(max(0.0, SAMPLE_SECONDS - (time.monotonic() - self.start)))
        try:
            busy1, total1 = cpu_ticks(self.cpus)
        except (OSError, ValueError):
            return float(cores)
        busy0, total0 = self.ticks
        if total1 <= total0:
            return float(cores)
        own = (_own_seconds() - self.own) * os.sysconf("SC_CLK_TCK")
        busy_share = max(0.0, busy1 - busy0 - own) / (total1 - total0)
        return min(float(cores), len(self.cpus) * (1.0 - busy_share))


def _own_seconds() -> float:
    """User + system CPU seconds of this process (every thread) so far."""
    times = os.times()
    return times.user + times.system


def workers_for(cores: int, free: float) -> int:
    """The rule: the free cores rounded to the nearest whole one, at least 1, at most CORES
    (and MAX_WORKERS)."""
    return max(1, min(int(free + 0.5), cores, MAX_WORKERS))


def worker_count(wanted: str | None = None, idle: IdleProbe | None = None) -> int:
    """Workers for one large batch: MKTAI_JOBS (WANTED) if set, else workers_for(the usable
    cores, the free ones now: over IDLE's stretch when given). Off Linux (no fork) always 1."""
    if not sys.platform.startswith("linux"):
        return 1
    cores = usable_cores()
    wanted = os.environ.get("MKTAI_JOBS") if wanted is None else wanted
    if wanted:
        try:
            count = int(wanted)
        except ValueError:
            from mktai.errors import UsageError

            raise UsageError(
                f"MKTAI_JOBS must be a whole number of worker processes, not {wanted!r}"
            ) from None
        return max(1, min(count, cores, MAX_WORKERS))
    if cores == 1:
        return 1
    free = idle.free_cores(cores) if idle is not None else free_cores(cores)
    return workers_for(cores, free)
