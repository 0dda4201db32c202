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


def test_structured_fields_drop_the_ones_not_given():
    exc = errors.InputError("bad row", file="a.csv", row=3, column=None)
    assert str(exc) == "bad row" and exc.fields == {"file": "a.csv", "row": 3}
    assert errors.MktaiError().fields == {} and str(errors.MktaiError()) == ""
    assert errors.MktaiError("x").exit_code == 2


def test_column_not_found_words_the_option_and_names_the_columns():
    columns = [f"c{i}" for i in range(30)]
    exc = errors.ColumnNotFound("customer", "cust", columns)
    shown = ", ".join(columns[:25])
    assert str(exc) == f"--map customer=cust: no column 'cust' (columns: {shown})"
    assert exc.fields == {"role": "customer", "column": "cust"}
    assert (exc.role, exc.column, exc.columns, exc.option, exc.source) == (
        "customer", "cust", columns, None, None,
    )  # fmt: skip
    assert isinstance(exc, errors.UsageError) and exc.exit_code == 2
    target = exc.named_by("--target")
    assert str(target) == f"--target: no column 'cust' (columns: {shown})"
    assert (target.role, target.column, target.columns) == ("customer", "cust", columns)
    sourced = exc.named_by("--target", "s.csv")
    assert str(sourced) == f"s.csv: --target: no column 'cust' (columns: {shown})"
    assert sourced.fields == {"file": "s.csv", "role": "customer", "column": "cust"}
    kept = errors.ColumnNotFound("text", "t", ("a", "b"), source="in.csv").named_by("--column")
    assert str(kept) == "in.csv: --column: no column 't' (columns: a, b)"
    assert (kept.source, kept.option) == ("in.csv", "--column")


def test_role_not_found_names_the_roles_the_columns_and_the_hint():
    columns = [f"c{i}" for i in range(30)]
    one = errors.RoleNotFound(["date"], columns)
    assert str(one) == (
        f"no column for role 'date' (columns: {', '.join(columns[:20])}); name it with --map date=COLUMN"
    )
    assert one.fields == {"role": "date"} and isinstance(one, errors.InputError)
    kinded = errors.RoleNotFound(
        ["customer", "amount"], columns, kind="transactions", source="t.csv"
    )
    assert str(kinded) == (
        f"t.csv: no column found for customer, amount in a transactions file "
        f"(columns: {', '.join(columns[:25])}); name it with --map customer=COLUMN"
    )
    assert kinded.fields == {"file": "t.csv", "role": "customer"}
    assert (kinded.roles, kinded.columns, kinded.kind) == (
        ["customer", "amount"],
        columns,
        "transactions",
    )
    named = kinded.named_by("--column")
    assert str(named) == (
        f"t.csv: no column found for customer, amount in a transactions file "
        f"(columns: {', '.join(columns[:25])}); name it with --column COLUMN"
    )
    assert (named.source, named.option, named.kind) == ("t.csv", "--column", "transactions")
    plain = errors.RoleNotFound(("text",), ("a", "b")).named_by("--column")
    assert str(plain) == "no column for role 'text' (columns: a, b); name it with --column COLUMN"
