"""Loading Keras for the families that use it: quietly, lazily and only once.

TensorFlow costs seconds and ~600 MB to import, so only the keras/mlp algorithms call this.
Its absl/oneDNN start-up lines ("WARNING: All log messages before absl::InitializeLog()")
ignore TF_CPP_MIN_LOG_LEVEL and would land in every cron log, so the import runs with file
descriptor 2 captured; if it fails, what it wrote is replayed and the missing dependency is
reported as exit 4 with the pip command.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from mktai.errors import require


def keras() -> Any:
    """The keras module (TensorFlow backend), imported on first use."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # oneDNN's reordered float sums make runs differ slightly and log a notice on stderr
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    _import_quietly("tensorflow")
    require("tensorflow", "deep", "tensorflow-cpu")
    import keras as keras_module

    return keras_module


def _import_quietly(name: str) -> None:
    if name in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            __import__(name)
        except ImportError:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
        finally:
            os.dup2(saved, 2)
            os.close(saved)
