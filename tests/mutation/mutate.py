"""Run mutmut on one module with the tests that exercise it (`make mutate MODULE=...`).

mutmut 3 reads its configuration only from pyproject.toml. Mutating all the contract modules at
once is ~3,500 mutants, hours on two cores, and every mutant of store/ would run the clean-data
tests too. So this launcher loads that configuration, narrows `only_mutate` to one file and the
test selection to the files in TESTS (or the ones given after `--`), and then runs mutmut in this
process: its forked workers inherit the narrowed configuration.

    python tests/mutation/mutate.py mktai/store/integrity.py            # the tests listed below
    python tests/mutation/mutate.py mktai/store/lock.py -- tests/test_store.py
    python tests/mutation/mutate.py mktai/store/integrity.py 'mktai.store.integrity.x_check_files*'
"""

from __future__ import annotations

import sys
from fnmatch import fnmatch

STORE = [
    "tests/test_store.py",
    "tests/test_store_archive.py",
    "tests/test_store_processes.py",
    "tests/test_hostile_store.py",
    "tests/test_hostile_archive.py",
    "tests/test_promises_store.py",
    "tests/test_promises_archive.py",
    "tests/test_promises_store_ops.py",
]
CLEAN = [  # test_data_fuzz.py is left to `make fuzz`: its random inputs kill little per second
    "tests/test_data_stream.py",
    "tests/test_ingest_formats.py",
    "tests/test_ingest_decimals.py",
    "tests/test_hotpaths_dictionary.py",
    "tests/test_newuser_duplicates.py",
    "tests/test_dedupe_collisions.py",
    "tests/test_promises_csv.py",
    "tests/test_promises_clean.py",
    "tests/test_promises_clean_types.py",
]
WRITE = [
    "tests/test_data_write.py",
    "tests/test_promises_csv.py",
    "tests/test_scoring_output.py",
    "tests/test_ingest_formats.py",
    "tests/test_data_stream.py",
]
# Module pattern -> the test files whose in-process tests exercise it (first match wins).
TESTS = [
    ("mktai/store/*", STORE),
    ("mktai/data/clean.py", CLEAN),
    ("mktai/data/write.py", WRITE),
    ("mktai/evaluation/gates.py", ["tests/test_promises_gates.py", "tests/test_evaluation.py"]),
    ("mktai/errors.py", ["tests/test_promises_errors.py"]),
]
# Slow tests that mutmut cannot credit (their work is in a subprocess or takes a model fit).
DESELECT = "not keras and not predict and not segment and not evaluate_gates and not reports_render"


def main(argv: list[str]) -> int:
    import mutmut.__main__ as mutmut_main  # sets the fork start method, as `mutmut run` does
    from mutmut import configuration

    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    module, rest = argv[0], argv[1:]
    tests = next((t for pattern, t in TESTS if fnmatch(module, pattern)), None)
    if "--" in rest:
        at = rest.index("--")
        rest, tests = rest[:at], rest[at + 1 :]
    if not tests:
        print(f"no tests listed for {module}: give them after --", file=sys.stderr)
        return 2
    from pathlib import Path

    tests = [t for t in tests if Path(t).exists()]
    cfg = configuration.config()
    cfg.only_mutate = [module]
    cfg.pytest_add_cli_args_test_selection = tests
    cfg.pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x", "-k", DESELECT]
    print(f"mutating {module} with {' '.join(tests)}", file=sys.stderr)
    return mutmut_main.cli(["run", "--max-children", "2", *rest], standalone_mode=False) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
