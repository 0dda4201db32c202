"""The declared facts about a model family, from which option parsing, help and completion come.

Each family package (mktai/tasks/<family>/__init__.py) exposes one `SPEC = FamilySpec(...)`.
Importing a spec must stay light (no NumPy, pandas or scikit-learn): `mktai train KIND --help`,
completions and the registry read specs without loading any model code. The family's code lives
in `FamilySpec.module`, imported only when a model is fitted or loaded.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from mktai.errors import UsageError

PARAM_TYPES = ("int", "float", "bool", "str", "list")


@dataclass(frozen=True)
class Param:
    """One family option, given on the command line as `--name-with-dashes VALUE`.

    type: "int", "float", "bool", "str" or "list" (comma-separated strings). default None means
    "not set" (the family decides, e.g. automatic). algorithms limits the option to those
    algorithms of the family (None: every algorithm). by_algorithm: (algorithm, default) pairs
    for an option whose default differs by algorithm (default is then None).
    """

    name: str
    type: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    algorithms: tuple[str, ...] | None = None
    spelling: str | None = None  # how users write the flag when it is not the name ("C")
    by_algorithm: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"Param {self.name}: type {self.type!r} is not one of {PARAM_TYPES}")

    def default_for(self, algorithm: str | None) -> Any:
        """The default when the option is not given and ALGORITHM is the one being fitted."""
        return dict(self.by_algorithm).get(algorithm, self.default)

    @property
    def flag(self) -> str:
        return "--" + (self.spelling or self.name.replace("_", "-"))

    def parse(self, value: Any) -> Any:
        """The typed value of `value` (a string from the command line, or already typed)."""
        from mktai.tasks import options as opt

        if value is None:
            return None
        key = self.spelling or self.name  # what error messages call the flag
        if self.type == "int":
            parsed: Any = opt.as_int(value, key, self.low, self.high)
        elif self.type == "float":
            parsed = opt.as_float(value, key, self.low, self.high)
        elif self.type == "bool":
            parsed = opt.as_bool(value, key)
        elif self.type == "list":
            items = value if isinstance(value, (list, tuple)) else str(value).split(",")
            parsed = [str(v).strip() for v in items if str(v).strip()]
        else:
            parsed = str(value)
        if self.choices is not None:
            values = parsed if isinstance(parsed, list) else [parsed]
            bad = [v for v in values if str(v).lower() not in self.choices]
            if bad:
                raise UsageError(
                    f"{self.flag} must be one of {', '.join(self.choices)}, not {bad[0]!r}"
                )
            parsed = [v.lower() for v in parsed] if isinstance(parsed, list) else parsed.lower()
        return parsed

    def describe(self) -> str:
        """One line for help: `--n-factors INT (default 100, 1..1000): latent factors`."""
        bits = [self.type.upper() if self.type != "list" else "A,B,..."]
        if self.default is not None:
            shown = (
                ",".join(map(str, self.default))
                if isinstance(self.default, (list, tuple))
                else self.default
            )
            bits.append(f"default {str(shown).lower() if isinstance(shown, bool) else shown}")
        if self.by_algorithm:
            bits.append("default " + " / ".join(f"{a} {v}" for a, v in self.by_algorithm))
        if self.choices:
            bits.append("|".join(self.choices))
        if self.low is not None or self.high is not None:
            low = "" if self.low is None else f"{self.low:g}"
            high = "" if self.high is None else f"{self.high:g}"
            bits.append(f"{low}..{high}")
        if self.algorithms:
            bits.append(f"{'/'.join(self.algorithms)} only")
        return f"{self.flag} ({', '.join(bits)}): {self.help}"


@dataclass(frozen=True)
class FamilySpec:
    """What a family serves and how it is configured.

    kinds: the `mktai train KIND` names it serves. dataset_kind: the cleaning layer's dataset
    kind it reads (role detection, rules). applies_with: the command that applies its models
    ("predict", "segment", "sentiment", "recommend", "forecast"). module: the implementation
    module with `fit(table, kind, options)` and `load_model(directory, manifest)`.
    """

    name: str
    kinds: tuple[str, ...]
    dataset_kind: str
    applies_with: str
    module: str
    algorithms: tuple[str, ...]
    default_algorithm: str | None
    params: tuple[Param, ...] = ()
    summary: str = ""
    # the module's dataset_kind_for(data, mapping=, encoding=) picks the kind from the header
    chooses_dataset_kind: bool = False
    # algorithms that fit with TensorFlow/Keras: its absence is exit 4 before any data is read
    deep_algorithms: tuple[str, ...] = ()

    def implementation(self) -> ModuleType:
        """The module with fit / load_model (heavy: imported only when needed)."""
        return importlib.import_module(self.module)

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def check_algorithm(self, algorithm: str | None) -> str | None:
        """The algorithm to use (the default when None); an unknown one is a UsageError."""
        if algorithm is None:
            return self.default_algorithm
        chosen = str(algorithm).strip().lower()
        if chosen not in self.algorithms:
            raise UsageError(
                f"unknown --algorithm {algorithm!r} for {self.name}; "
                f"choose one of: {', '.join(self.algorithms)}"
            )
        return chosen

    def parse_options(
        self, extra: dict[str, Any] | None, algorithm: str | None = None
    ) -> dict[str, Any]:
        """Every declared parameter, typed: given values parsed and checked, the rest defaults.

        Unknown options, and options that belong to another algorithm of the family, are a
        UsageError naming the flag, never silently ignored.
        """
        from mktai.tasks import options as opt

        given = opt.normalise_extra(extra)
        known = {p.name for p in self.params}
        usable = [p.name for p in self.params if not self._other_algorithm(p, algorithm)]
        family = f"{self.name} --algorithm {algorithm}" if algorithm else self.name
        opt.reject_unknown(given, known, family, {p.name: p.flag for p in self.params}, usable)
        parsed: dict[str, Any] = {}
        for p in self.params:
            if p.name in given:
                if self._other_algorithm(p, algorithm):
                    raise UsageError(
                        f"{p.flag} applies to --algorithm {'/'.join(p.algorithms)}, not {algorithm}"
                    )
                parsed[p.name] = p.parse(given[p.name])
            else:
                parsed[p.name] = p.default
        return parsed

    @staticmethod
    def _other_algorithm(param: Param, algorithm: str | None) -> bool:
        """The option belongs to other algorithms of the family than the one being fitted."""
        return bool(algorithm and param.algorithms and algorithm not in param.algorithms)

    def params_help(self) -> list[str]:
        """One line per parameter, for `mktai train KIND --help` and the README."""
        return [p.describe() for p in self.params]
