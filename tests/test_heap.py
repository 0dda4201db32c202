"""The batch heap: with the thresholds raised, a loop reuses its freed arrays (no fresh page
faults per batch) and the memory goes back to the kernel at the end."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")

LOOP = """
import resource, sys
import numpy as np
from mktai.tasks.common import heap
if sys.argv[1] == "keep":
    assert heap.keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
np.ones(6_000_000).sum()  # 48 MB: above glibc's largest adaptive mmap threshold (32 MB)
start = faults()
for _ in range(10):
    np.ones(6_000_000).sum()
print(faults() - start)
"""

RELEASE = """
import numpy as np
from mktai.tasks.common import heap
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
with heap.batch_heap():
    parts = [np.ones(1_000_000) for _ in range(40)]  # 320 MB in 8 MB arrays, in the heap
    held = rss_mb()
    del parts
    kept = rss_mb()
print(held, kept, rss_mb())
"""


def _run(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_freed_arrays_are_reused_instead_of_faulted_in_again():
    default = int(_run(LOOP, "default"))
    kept = int(_run(LOOP, "keep"))
    huge_pages = 6_000_000 * 8 // (2 * 1024 * 1024)  # NumPy asks for 2 MB pages when it can
    assert default >= 10 * huge_pages  # every batch maps fresh zero pages
    assert kept * 10 < default  # the first batch's arrays are reused by the next ones


def test_the_kept_memory_goes_back_when_the_batch_ends():
    held, kept, after = map(float, _run(RELEASE).split())
    assert held > 300
    assert kept > 250  # freed inside the batch: still held for the next batch
    assert after < held - 250  # trimmed on the way out
