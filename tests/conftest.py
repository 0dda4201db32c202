"""Shared test settings.

`make test` runs pytest with 2 xdist workers on a 2-core machine: gbm fits use one OpenMP
thread each (MKTAI_THREADS), so the workers do not compete for cores; a user's environment wins.
"""

from __future__ import annotations

import os

os.environ.setdefault("MKTAI_THREADS", "1")
