"""Import the heavy libraries of a cleaning run in a helper thread, while the input is read.

`import pandas` costs ~0.3 s of CPU, all of it holding the GIL, and a run needs it only once
the first batch is parsed (the type plan, the duplicate hashes). pyarrow's CSV reader parses
outside the GIL, so importing pandas beside the first blocks' parsing takes that time off the
wall clock of a big file. Nothing depends on the thread: every user of pandas imports it as
usual (Python's import lock makes them wait for the import in progress, or do it themselves if
the thread failed).
"""

from __future__ import annotations

import sys
import threading

# the order every run imports them in (pyarrow before pandas), so no two threads ever wait for
# each other's half-imported module
MODULES = ("numpy", "pyarrow", "pyarrow.compute", "pyarrow.csv", "pyarrow.parquet", "pandas")


def warm_imports() -> threading.Thread | None:
    """Start importing MODULES in a daemon thread; None when they are all imported already."""
    if all(name in sys.modules for name in MODULES):
        return None
    thread = threading.Thread(target=_import_all, daemon=True, name="mktai-imports")
    thread.start()
    return thread


def _import_all() -> None:
    import importlib

    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the run's own import reports it, in the thread that needs it
            return
