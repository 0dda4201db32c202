"""After the warm-up the server's long-lived objects are frozen out of the cyclic GC (no full
collection walks the loaded models in the middle of a request), and readiness is unchanged."""

from __future__ import annotations

import gc

from mktai.serve.app import Readiness
from mktai.serve.cache import ModelCache


def test_warm_up_freezes_what_it_loaded(tmp_path):
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    readiness = Readiness(ModelCache(tmp_path, [], all_models=False), None)
    try:
        readiness.warm_all()
        ready, state = readiness.check()
        assert ready, state
        assert state == {"built-in": "ok"}
        assert gc.get_freeze_count() > 10_000  # the interpreter, the libraries, the model
    finally:
        gc.unfreeze()
