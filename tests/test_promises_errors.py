"""README promise: the exit codes of the CLI contract, as the library's exception types carry
them (0 ok, 1 gate, 2 usage/input, 3 store, 4 missing optional dependency, 70 internal), and the
missing-dependency message that says what to pip install."""

from __future__ import annotations

import pytest

from mktai import errors


def test_exception_types_carry_the_documented_exit_codes():
    documented = {
        errors.UsageError: 2,
        errors.InputError: 2,
        errors.GateFailed: 1,
        errors.StoreError: 3,
        errors.ModelNotFound: 3,
        errors.IntegrityError: 3,
        errors.LockTimeout: 3,
        errors.MissingDependency: 4,
    }
    for kind, code in documented.items():
        assert issubclass(kind, errors.MktaiError) and kind("x").exit_code == code, kind
    assert (errors.EXIT_OK, errors.EXIT_GATE, errors.EXIT_INPUT) == (0, 1, 2)
    assert (errors.EXIT_STORE, errors.EXIT_DEPENDENCY, errors.EXIT_INTERNAL) == (3, 4, 70)


def test_require_imports_or_names_the_pip_command():
    import json

    assert errors.require("json", "deep") is json
    with pytest.raises(errors.MissingDependency) as caught:
        errors.require("mktai_no_such_module", "deep", "tensorflow-cpu")
    message = str(caught.value)
    assert message.startswith("tensorflow-cpu is not installed (")
    assert "No module named 'mktai_no_such_module'" in message
    assert message.endswith("install it with: pip install 'mktai[deep]'")
    assert caught.value.exit_code == 4
    with pytest.raises(errors.MissingDependency, match=r"^mktai_no_such_module is not installed"):
        errors.require("mktai_no_such_module", "spark")
