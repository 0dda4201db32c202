"""Static bash, zsh and fish completion scripts generated from the mktai command tree.

Why static: asking the program itself for completions (click's dynamic completion) starts Python,
typer and every command module on each <TAB>, a few hundred milliseconds. The scripts written here
are plain shell: the command tree, options and value hints are baked in, and the only thing looked
up at completion time is the list of stored models, by listing the store directory.

Regenerate after changing any command or option (a test fails while they are stale):

    make completions        # = python -m mktai.cli.completions completions

What a value completes to is decided from the click parameter:
- a fixed set of choices (Enum / Literal annotations, click.Choice) -> those words; the KIND
  argument -> model kinds (mktai.tasks.kinds()), a --kind option -> dataset kinds
  (mktai.data.schema.KINDS);
- a Path (or File) -> file names; directories only when the parameter is directory-only, named
  `store` / `*_dir`, or its help starts with "Directory";
- a str parameter named model, models, ref, refs or name -> stored model references: model names
  (directories of the store given by --store, else $MKTAI_STORE, else ./mktai-store), then
  name@vN / name@alias once `@` is typed;
- a positional argument whose name says data/source/input/file/path/text/... -> file names;
- anything else -> nothing (a column name, a number, an alias ...).

`train KIND` also completes KIND's family options (`--class-weight`, `--k`, ...) once KIND is on
the line, from the family specs (mktai.tasks: light, no model code): choices and true/false for
booleans as values, file names for a `*_map` / `*_file` option.
"""

from __future__ import annotations

import argparse
import enum
import pathlib
import re
import sys
import typing
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

PROG = "mktai"
SHELL_FILES = {"bash": "mktai.bash", "zsh": "_mktai", "fish": "mktai.fish"}
REF_PARAM_NAMES = frozenset({"model", "models", "ref", "refs", "name"})
DIR_PARAM_NAMES = frozenset({"store"})
FILE_ARG_WORDS = ("data", "source", "input", "file", "path", "text", "csv", "table", "archive")
FAMILY_COMMAND = ("train",)  # `train KIND ...`: KIND's family options follow it
HEADER = (
    "Generated from the mktai command tree by `make completions`\n"
    "(python -m mktai.cli.completions completions). Do not edit by hand."
)


# --------------------------------------------------------------------------- the command model


@dataclass(frozen=True)
class Value:
    """What the value of an option or argument completes to."""

    kind: str  # "none" | "file" | "dir" | "choice" | "ref"
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Opt:
    names: tuple[str, ...]
    help: str
    value: Value | None  # None: a flag, takes no value
    multiple: bool = False


@dataclass(frozen=True)
class Arg:
    name: str
    value: Value
    variadic: bool


@dataclass(frozen=True)
class Cmd:
    path: tuple[str, ...]
    help: str
    options: tuple[Opt, ...]
    args: tuple[Arg, ...]
    subcommands: tuple[Cmd, ...]
    # options that depend on the first positional argument: ((its values, options), ...)
    by_first_arg: tuple[tuple[tuple[str, ...], tuple[Opt, ...]], ...] = ()

    @property
    def key(self) -> str:
        return " ".join(self.path)

    def walk(self) -> Iterable[Cmd]:
        yield self
        for sub in self.subcommands:
            yield from sub.walk()

    @property
    def value_options(self) -> list[str]:
        return [name for opt in self.options if opt.value is not None for name in opt.names]

    @property
    def option_names(self) -> list[str]:
        return [name for opt in self.options for name in opt.names]


def describe_app(app: Any = None) -> Cmd:
    """The mktai command tree as plain data (imports the CLI modules, never the heavy libraries)."""
    import typer.main

    if app is None:
        from mktai.cli.app import app
    command = typer.main.get_command(app)
    return _with_family_options(describe_command(command, PROG))


def _with_family_options(cmd: Cmd) -> Cmd:
    """The tree with each model kind's family options on FAMILY_COMMAND (`train KIND`)."""
    if cmd.path == FAMILY_COMMAND:
        return replace(cmd, by_first_arg=family_options(set(cmd.option_names)))
    subs = tuple(_with_family_options(sub) for sub in cmd.subcommands)
    return replace(cmd, subcommands=subs)


def family_options(taken: set[str]) -> tuple[tuple[tuple[str, ...], tuple[Opt, ...]], ...]:
    """(kinds, options) of every registered family, from its FamilySpec (options the command
    declares itself, in TAKEN, are left out)."""
    from mktai.tasks import FAMILIES, spec_of_family

    groups = []
    for family_name in FAMILIES:
        spec = spec_of_family(family_name)
        opts = tuple(
            Opt(names=(p.flag,), help=_one_line(p.help), value=_param_value(p))
            for p in spec.params
            if p.flag not in taken
        )
        if opts:
            groups.append((tuple(spec.kinds), opts))
    return tuple(groups)


def _param_value(param: Any) -> Value:
    """What a family option's value completes to (every family option takes a value)."""
    if param.choices:
        return Value("choice", tuple(param.choices))
    if param.type == "bool":
        return Value("choice", ("true", "false"))
    if param.name.endswith(("_map", "_file")):
        return Value("file")
    return Value("none")


def describe_command(command: Any, name: str, parent_ctx: Any = None, path=()) -> Cmd:
    """Turn a click command (and its sub-commands) into a Cmd, in the order the app declares."""
    ctx = command.context_class(
        command, info_name=name, parent=parent_ctx, **(command.context_settings or {})
    )
    options: list[Opt] = []
    args: list[Arg] = []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if getattr(param, "param_type_name", "") == "argument" or not getattr(param, "opts", None):
            args.append(
                Arg(
                    name=param.name or "arg",
                    value=_value_hint(param, positional=True),
                    variadic=param.nargs == -1,
                )
            )
        else:
            flag = bool(getattr(param, "is_flag", False) or getattr(param, "count", False))
            names = tuple(param.opts) + tuple(getattr(param, "secondary_opts", ()) or ())
            # long names first; click builds the help option's names from a set
            names = tuple(sorted(names, key=lambda n: (not n.startswith("--"), n)))
            options.append(
                Opt(
                    names=names,
                    help=_one_line(getattr(param, "help", None) or ""),
                    value=None if flag else _value_hint(param, positional=False),
                    multiple=bool(getattr(param, "multiple", False)),
                )
            )
    subs: list[Cmd] = []
    list_commands = getattr(command, "list_commands", None)
    if list_commands is not None:
        for sub_name in list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is None or getattr(sub, "hidden", False):
                continue
            subs.append(describe_command(sub, sub_name, ctx, (*path, sub_name)))
    return Cmd(
        path=tuple(path),
        help=_one_line(command.get_short_help_str(limit=70)),
        options=tuple(options),
        args=tuple(args),
        subcommands=tuple(subs),
    )


def _one_line(text: str) -> str:
    """First paragraph of a help text on one line (the shells show one line per item)."""
    first = text.strip().split("\n\n")[0]
    return " ".join(first.split())


def _value_hint(param: Any, positional: bool) -> Value:
    choices = _choices(param) or _registry_choices(param, positional)
    if choices:
        return Value("choice", tuple(choices))
    path_kind = _path_kind(param)
    names = _names(param)
    if path_kind:
        help_text = (getattr(param, "help", None) or "").lower()
        if (
            path_kind == "dir"
            or names & DIR_PARAM_NAMES
            or any(name.endswith("_dir") for name in names)
            or help_text.startswith(("directory", "folder"))
        ):
            return Value("dir")
        return Value("file")
    if names & REF_PARAM_NAMES and _is_plain_str(param):
        return Value("ref")
    if positional and any(word in name for name in names for word in FILE_ARG_WORDS):
        return Value("file")
    return Value("none")


def _names(param: Any) -> set[str]:
    """The parameter's Python name and its long option names, as identifiers in lower case."""
    names = {(param.name or "").lower()}
    for opt in getattr(param, "opts", ()) or ():
        if opt.startswith("--"):
            names.add(opt[2:].replace("-", "_").lower())
    return names - {""}


def _registry_choices(param: Any, positional: bool) -> list[str]:
    """Plain-str parameters whose values are a registry of the code base.

    The KIND argument (`train KIND`) takes a model kind (mktai.tasks.kinds()); the shared --kind
    option takes a dataset kind (mktai.data.schema.KINDS).
    """
    if "kind" not in _names(param) or not _is_plain_str(param):
        return []
    if positional:
        from mktai.tasks import kinds

        return kinds()
    from mktai.data.schema import KINDS

    return sorted(KINDS)


def _is_plain_str(param: Any) -> bool:
    """A free-text value: typer's str annotation, or click's STRING type."""
    if getattr(param, "type_descriptor", None) is not None:
        return _annotation(param) is str
    return type(getattr(param, "type", None)).__name__ == "StringParamType"


def _annotation(param: Any) -> Any:
    """The Python annotation typer derived the parameter from, unwrapped from list[...]."""
    desc = getattr(param, "type_descriptor", None)
    annotation = getattr(desc, "annotation", None)
    if typing.get_origin(annotation) in (list, tuple, typing.Union):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = inner[0] if inner else None
    return annotation


def _choices(param: Any) -> list[str]:
    desc = getattr(param, "type_descriptor", None)
    choices = getattr(desc, "choices", None) if desc is not None else None
    if choices is None:  # plain click: click.Choice
        choices = getattr(getattr(param, "type", None), "choices", None)
    return [str(c.value) if isinstance(c, enum.Enum) else str(c) for c in choices or ()]


def _path_kind(param: Any) -> str | None:
    """'file', 'dir' or 'path' for path-like parameters, else None."""
    desc = getattr(param, "type_descriptor", None)
    if desc is not None:
        annotation = _annotation(param)
        info = desc.parameter_info
        is_path = isinstance(annotation, type) and issubclass(annotation, pathlib.PurePath)
        if is_path or getattr(desc, "is_path", False) or getattr(desc, "is_file", False):
            if getattr(info, "dir_okay", True) and not getattr(info, "file_okay", True):
                return "dir"
            return "file"
        return None
    ptype = getattr(param, "type", None)  # plain click: click.Path / click.File
    type_name = type(ptype).__name__
    if type_name == "File":
        return "file"
    if type_name in ("Path", "TyperPath"):  # typer <= 0.28 wraps click.Path as TyperPath
        if getattr(ptype, "dir_okay", True) and not getattr(ptype, "file_okay", True):
            return "dir"
        return "file"
    return None


# --------------------------------------------------------------------------- quoting


def _sq(text: str) -> str:
    """POSIX/zsh single-quoted word."""
    return "'" + text.replace("'", "'\\''") + "'"


def _fish_sq(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _zsh_desc(text: str) -> str:
    """Text for an _arguments [description]: brackets and backslashes escaped."""
    return re.sub(r"([\\\[\]])", r"\\\1", text)


def _zsh_word(text: str) -> str:
    return re.sub(r"([\\\s()'\"`:$;&|<>])", r"\\\1", text)


def _func_suffix(cmd: Cmd) -> str:
    return "".join("__" + re.sub(r"\W", "_", part) for part in cmd.path)


# --------------------------------------------------------------------------- bash

_BASH_HELPERS = r"""
_mktai_store() {
    # The store a model reference is looked up in: --store on the line, $MKTAI_STORE, ./mktai-store
    local i store=
    for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
        if [[ ${COMP_WORDS[i]} == --store ]]; then
            if [[ ${COMP_WORDS[i+1]} == = ]]; then store=${COMP_WORDS[i+2]}; else store=${COMP_WORDS[i+1]}; fi
        fi
    done
    [[ -n $store ]] || store=${MKTAI_STORE:-mktai-store}
    [[ $store == "~/"* ]] && store=$HOME/${store#"~/"}
    printf '%s\n' "$store"
}

_mktai_refs() {
    # Model names (directories of the store); name@vN and name@alias once "@" is typed.
    local store d name json
    store=$(_mktai_store)
    if [[ $1 == *@* ]]; then
        name=${1%%@*}
        for d in "$store/$name"/v*/; do
            [[ -d $d ]] || continue
            d=${d%/}
            printf '%s@%s\n' "$name" "${d##*/}"
        done
        if [[ -r $store/$name/aliases.json ]]; then
            json=$(<"$store/$name/aliases.json")
            while [[ $json =~ \"([^\"]+)\"[[:space:]]*: ]]; do
                printf '%s@%s\n' "$name" "${BASH_REMATCH[1]}"
                json=${json#*"${BASH_REMATCH[0]}"}
            done
        fi
    else
        for d in "$store"/*/; do
            [[ -d $d ]] || continue
            d=${d%/}
            d=${d##*/}
            [[ $d == .* ]] || printf '%s\n' "$d"
        done
    fi
}

_mktai_complete() {
    # $1: what to complete ("file", "dir", "ref", "words", "none"); $2: the words
    local IFS=$' \t\n'
    case $1 in
        file)
            compopt -o filenames 2>/dev/null
            IFS=$'\n' COMPREPLY=($(compgen -f -- "$cur"))
            ;;
        dir)
            compopt -o filenames 2>/dev/null
            IFS=$'\n' COMPREPLY=($(compgen -d -- "$cur"))
            ;;
        ref) COMPREPLY=($(compgen -W "$(_mktai_refs "$cur")" -- "$cur")) ;;
        words) COMPREPLY=($(compgen -W "$2" -- "$cur")) ;;
        *) COMPREPLY=() ;;
    esac
}

_mktai() {
    local cur=${COMP_WORDS[COMP_CWORD]} key= opt= w i n=0 skip=0 first=
    local _mktai_subs _mktai_opts _mktai_vopts
    COMPREPLY=()
    # Walk the words before the cursor: sub-commands extend the command path, options that take
    # a value skip it (also as --opt=value, which bash splits into three words), the rest are
    # positional arguments (the first one, e.g. train's KIND, can bring options of its own).
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ $w == = ]]; then skip=1; continue; fi
        if ((skip)); then skip=0; continue; fi
        _mktai_spec "$key" "$first"
        case $w in
            -*) [[ " $_mktai_vopts " == *" $w "* ]] && skip=1 ;;
            *)
                if [[ " $_mktai_subs " == *" $w "* ]]; then
                    key=${key:+$key }$w
                    n=0
                    first=
                else
                    n=$((n + 1))
                    ((n == 1)) && first=$w
                fi
                ;;
        esac
    done
    _mktai_spec "$key" "$first"
    if ((skip)); then
        opt=${COMP_WORDS[COMP_CWORD-1]}
        [[ $opt == = ]] && opt=${COMP_WORDS[COMP_CWORD-2]}
        [[ $cur == = ]] && cur=
        _mktai_value "$key" "$opt" "$first"
        return 0
    fi
    if [[ $cur == -* ]]; then
        _mktai_complete words "$_mktai_opts"
    elif [[ -n $_mktai_subs ]]; then
        _mktai_complete words "$_mktai_subs"
    else
        _mktai_arg "$key" "$n"
    fi
    return 0
}

complete -F _mktai mktai
"""


def render_bash(root: Cmd) -> str:
    spec = []
    values = []
    args = []
    first_arg_values = []
    for cmd in root.walk():
        subs = " ".join(sub.path[-1] for sub in cmd.subcommands)
        spec.append(
            f"        {_sq(cmd.key)})\n"
            f"            _mktai_subs={_sq(subs)}\n"
            f"            _mktai_opts={_sq(' '.join(cmd.option_names))}\n"
            f"            _mktai_vopts={_sq(' '.join(cmd.value_options))}\n"
            + _bash_by_first_arg(cmd)
            + "            ;;"
        )
        for opt in cmd.options:
            if opt.value is not None:
                pattern = "|".join(_sq(f"{cmd.key}|{name}") for name in opt.names)
                values.append(f"        {pattern}) {_bash_action(opt.value)} ;;")
        for firsts, opts in cmd.by_first_arg:
            for opt in opts:
                if opt.value is not None and opt.value.kind != "none":
                    pattern = "|".join(_sq(f"{cmd.key}|{a}|{n}") for a in firsts for n in opt.names)
                    first_arg_values.append(
                        f"        {pattern}) {_bash_action(opt.value)}; return ;;"
                    )
        for index, arg in enumerate(cmd.args):
            pattern = _sq(f"{cmd.key}|") + "*" if arg.variadic else _sq(f"{cmd.key}|{index}")
            args.append(f"        {pattern}) {_bash_action(arg.value)} ;;")
    by_first = ['    case "$1|$3|$2" in', *first_arg_values, "    esac"] if first_arg_values else []
    body = [
        "# bash completion for mktai                                  -*- shell-script -*-",
        *(f"# {line}" for line in HEADER.splitlines()),
        "# Install: `source completions/mktai.bash` in ~/.bashrc, or copy this file to",
        "# ~/.local/share/bash-completion/completions/mktai (bash-completion loads it on demand).",
        "",
        "_mktai_spec() {",
        "    # $1: command path, $2: its first argument (train: the model kind) -> its",
        "    # sub-commands, options, and options that take a value",
        '    case "$1" in',
        *spec,
        "        *) _mktai_subs= _mktai_opts= _mktai_vopts= ;;",
        "    esac",
        "}",
        "",
        "_mktai_value() {",
        "    # $1: command path, $2: option, $3: the command's first argument -> complete the",
        "    # option's value",
        *by_first,
        '    case "$1|$2" in',
        *values,
        "        *) COMPREPLY=() ;;",
        "    esac",
        "}",
        "",
        "_mktai_arg() {",
        "    # $1: command path, $2: index of the positional argument being completed",
        '    case "$1|$2" in',
        *args,
        "        *) COMPREPLY=() ;;",
        "    esac",
        "}",
    ]
    return "\n".join(body) + "\n" + _BASH_HELPERS


def _bash_by_first_arg(cmd: Cmd) -> str:
    """The case arm lines adding the options that the command's first argument brings."""
    if not cmd.by_first_arg:
        return ""
    out = ['            case "$2" in']
    for firsts, opts in cmd.by_first_arg:
        names = [n for opt in opts for n in opt.names]
        vnames = [n for opt in opts if opt.value is not None for n in opt.names]
        out.append(f"                {'|'.join(_sq(a) for a in firsts)})")
        out.append(f"                    _mktai_opts+={_sq(' ' + ' '.join(names))}")
        out.append(f"                    _mktai_vopts+={_sq(' ' + ' '.join(vnames))}")
        out.append("                    ;;")
    out.append("            esac")
    return "\n".join(out) + "\n"


def _bash_action(value: Value) -> str:
    if value.kind == "choice":
        return f"_mktai_complete words {_sq(' '.join(value.choices))}"
    return f"_mktai_complete {value.kind}"


# --------------------------------------------------------------------------- zsh

_ZSH_HELPERS = r"""
_mktai_refs() {
  # Model names (directories of the store); name@vN and name@alias once "@" is typed.
  local store=${opt_args[--store]:-${_mktai_root_store:-${MKTAI_STORE:-mktai-store}}}
  store=${store/#\~/$HOME}
  local -a refs
  local name json
  if [[ $PREFIX == *@* ]]; then
    name=${PREFIX%%@*}
    refs=( $store/$name/v*(N/:t) )
    refs=( ${refs/#/$name@} )
    if [[ -r $store/$name/aliases.json ]]; then
      json=$(<$store/$name/aliases.json)
      while [[ $json =~ '"([^"]+)"[[:space:]]*:' ]]; do
        refs+=( "$name@$match[1]" )
        json=${json[$((MEND + 1)),-1]}
      done
    fi
  else
    refs=( $store/*(N/:t) )
  fi
  _wanted models expl 'model' compadd -a refs
}
"""


def render_zsh(root: Cmd) -> str:
    functions = [_zsh_function(cmd) for cmd in root.walk()]
    lines = [
        "#compdef mktai",
        "# zsh completion for mktai",
        *(f"# {line}" for line in HEADER.splitlines()),
        "# Install: put this file (named _mktai) in a directory on $fpath before compinit runs,",
        "# e.g. fpath=(~/.zfunc $fpath) in ~/.zshrc with the file at ~/.zfunc/_mktai.",
        _ZSH_HELPERS.rstrip("\n"),
        *functions,
        '\nif [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n  _mktai "$@"\nelse\n'
        "  compdef _mktai mktai\nfi",
    ]
    return "\n".join(lines) + "\n"


def _zsh_function(cmd: Cmd) -> str:
    name = "_mktai" + _func_suffix(cmd)
    specs = [_zsh_option(opt) for opt in cmd.options]
    for arg in cmd.args:
        prefix = "*" if arg.variadic else ""
        specs.append(_sq(f"{prefix}:{arg.name}:{_zsh_action(arg.value)}"))
    out = [f"\n{name}() {{"]
    if cmd.subcommands:
        out.append('  local curcontext="$curcontext" state state_descr line ret=1')
        out.append("  typeset -A opt_args")
        specs += [_sq(": :->command"), _sq("*:: :->args")]
        out.append("  _arguments -C -s -S \\\n    " + " \\\n    ".join(specs) + " && ret=0")
        described = [_sq(f"{_zsh_word(sub.path[-1])}:{sub.help}") for sub in cmd.subcommands]
        out.append("  case $state in")
        out.append("    (command)")
        out.append(
            "      local -a commands=(\n        " + "\n        ".join(described) + "\n      )"
        )
        label = f"{' '.join((PROG, *cmd.path))} command"
        out.append(f"      _describe -t commands {_sq(label)} commands && ret=0")
        out.append("      ;;")
        out.append("    (args)")
        if not cmd.path:
            out.append("      local _mktai_root_store=${opt_args[--store]}")
        out.append('      curcontext="${curcontext%:*:*}:mktai-$words[1]:"')
        out.append("      case $words[1] in")
        for sub in cmd.subcommands:
            sub_func = "_mktai" + _func_suffix(sub)
            out.append(f"        ({_zsh_word(sub.path[-1])}) {sub_func} && ret=0 ;;")
        out.append("      esac")
        out.append("      ;;")
        out.append("  esac")
        out.append("  return ret")
    elif cmd.by_first_arg:
        out += _zsh_first_arg(cmd)
        out.append("  _arguments -s -S \\\n    " + " \\\n    ".join([*specs, "$more"]))
    else:
        out.append("  _arguments -s -S \\\n    " + " \\\n    ".join(specs))
    out.append("}")
    return "\n".join(out)


def _zsh_first_arg(cmd: Cmd) -> list[str]:
    """Lines finding the command's first argument on the line (the words before the cursor,
    values of its options skipped) and putting the options it brings into $more."""
    takes_value = "|".join(_zsh_word(n) for n in cmd.value_options) or "--"
    out = ["  local w first skip=0", "  local -a more", "  for w in ${words[2,CURRENT-1]}; do",
           "    if (( skip )); then skip=0; continue; fi", "    case $w in",
           f"      ({takes_value}) skip=1 ;;", "      (-*) ;;", "      (*) first=$w; break ;;",
           "    esac", "  done", "  case $first in"]  # fmt: skip
    for firsts, opts in cmd.by_first_arg:
        pattern = "|".join(_zsh_word(a) for a in firsts)
        specs = " \\\n      ".join(_zsh_option(opt) for opt in opts)
        out.append(f"    ({pattern}) more=(\n      {specs}\n    ) ;;")
    out.append("  esac")
    return out


def _zsh_option(opt: Opt) -> str:
    help_text = _zsh_desc(opt.help)
    if opt.value is None:
        suffixes = [""] * len(opt.names)
        action = ""
    else:
        suffixes = ["=" if name.startswith("--") else "+" for name in opt.names]
        action = f":{_zsh_value_message(opt)}:{_zsh_action(opt.value)}"
    if "--help" in opt.names:
        exclusion = "(- *)"
    elif opt.multiple:
        exclusion = "*"
    else:
        exclusion = "(" + " ".join(opt.names) + ")" if len(opt.names) > 1 else ""
    names = [name + suffix for name, suffix in zip(opt.names, suffixes, strict=True)]
    tail = f"[{help_text}]{action}"
    if len(names) == 1:
        return _sq(f"{exclusion}{names[0]}{tail}")
    return _sq(exclusion) + "{" + ",".join(names) + "}" + _sq(tail)


def _zsh_value_message(opt: Opt) -> str:
    long_names = [n for n in opt.names if n.startswith("--")]
    return (long_names or list(opt.names))[0].lstrip("-")


def _zsh_action(value: Value) -> str:
    if value.kind == "choice":
        return "(" + " ".join(_zsh_word(c) for c in value.choices) + ")"
    return {"file": "_files", "dir": "_files -/", "ref": "_mktai_refs"}.get(value.kind, " ")


# --------------------------------------------------------------------------- fish

_FISH_HELPERS = r"""
function __mktai_state --description 'mktai: command path and positional index at the cursor'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l key
    set -l n 0
    set -l skip 0
    set -l first
    for w in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case '--*=*'
            case '-*'
                if contains -- $w (__mktai_vopts "$key" "$first")
                    set skip 1
                end
            case '*'
                if contains -- $w (__mktai_subs "$key")
                    set -a key $w
                    set n 0
                    set first
                else
                    set n (math $n + 1)
                    test $n = 1; and set first $w
                end
        end
    end
    echo "$key|$n|$first"
end

function __mktai_first --description 'mktai: at command $argv[1] with its first argument one of $argv[2..]?'
    set -l state (string split '|' -- (__mktai_state))
    test "$state[1]" = "$argv[1]"; and contains -- "$state[3]" $argv[2..-1]
end

function __mktai_at --description 'mktai: is the command path at the cursor $argv[1]?'
    set -l state (string split '|' -- (__mktai_state))
    test "$state[1]" = "$argv[1]"
end

function __mktai_arg --description 'mktai: at command $argv[1], positional argument $argv[2] (N+: N or later)?'
    set -l state (string split '|' -- (__mktai_state))
    test "$state[1]" = "$argv[1]"; or return 1
    set -l index (string replace '+' '' -- $argv[2])
    if string match -q -- '*+' $argv[2]
        test $state[2] -ge $index
    else
        test $state[2] -eq $index
    end
end

function __mktai_refs --description 'mktai: stored model names, name@vN and name@alias'
    set -l tokens (commandline -opc)
    set -l store
    for i in (seq (count $tokens))
        if test "$tokens[$i]" = --store; and test $i -lt (count $tokens)
            set store $tokens[(math $i + 1)]
        else if string match -q -- '--store=*' $tokens[$i]
            set store (string replace -- '--store=' '' $tokens[$i])
        end
    end
    test -n "$store"; or set store $MKTAI_STORE
    test -n "$store"; or set store mktai-store
    set store (string replace -r '^~/' "$HOME/" -- $store)
    set -l cur (commandline -ct)
    if string match -q -- '*@*' $cur
        set -l name (string split -m1 @ -- $cur)[1]
        for d in $store/$name/v*/
            printf '%s@%s\n' $name (basename $d)
        end
        if test -r $store/$name/aliases.json
            for alias in (string match -arg '"([^"]+)"\s*:' < $store/$name/aliases.json)
                printf '%s@%s\n' $name $alias
            end
        end
    else
        for d in $store/*/
            basename $d
        end
    end
end
"""


def render_fish(root: Cmd) -> str:
    subs_cases = []
    vopts_cases = []
    completes = []
    for cmd in root.walk():
        case = f"        case {_fish_sq(cmd.key)}"
        if cmd.subcommands:
            words = " ".join(_fish_sq(sub.path[-1]) for sub in cmd.subcommands)
            subs_cases.append(f"{case}\n            printf '%s\\n' {words}")
        if cmd.value_options or cmd.by_first_arg:
            words = " ".join(_fish_sq(name) for name in cmd.value_options)
            vopts_cases.append(f"{case}\n            printf '%s\\n' {words}".rstrip())
            if cmd.by_first_arg:
                vopts_cases.append('            switch "$argv[2]"')
                for firsts, opts in cmd.by_first_arg:
                    words = " ".join(_fish_sq(n) for o in opts if o.value for n in o.names)
                    vopts_cases.append(f"                case {' '.join(map(_fish_sq, firsts))}")
                    vopts_cases.append(f"                    printf '%s\\n' {words}")
                vopts_cases.append("            end")
        at = _fish_sq(f"__mktai_at {_fish_sq(cmd.key)}")
        completes.append(f"\n# {' '.join((PROG, *cmd.path))}")
        for sub in cmd.subcommands:
            completes.append(
                f"complete -c mktai -n {at} -a {_fish_sq(sub.path[-1])} -d {_fish_sq(sub.help)}"
            )
        completes += [_fish_option(at, opt) for opt in cmd.options]
        for firsts, opts in cmd.by_first_arg:
            first = _fish_sq(" ".join(("__mktai_first", _fish_sq(cmd.key), *map(_fish_sq, firsts))))
            completes.append(f"# {' '.join((PROG, *cmd.path))} {'|'.join(firsts)}")
            completes += [_fish_option(first, opt) for opt in opts]
        for index, arg in enumerate(cmd.args):
            position = f"{index}+" if arg.variadic else str(index)
            cond = _fish_sq(f"__mktai_arg {_fish_sq(cmd.key)} {position}")
            action = _fish_action(arg.value)
            completes.append(f"complete -c mktai -n {cond} {action} -d {_fish_sq(arg.name)}")
    lines = [
        "# fish completion for mktai",
        *(f"# {line}" for line in HEADER.splitlines()),
        "# Install: copy this file to ~/.config/fish/completions/mktai.fish",
        "",
        "function __mktai_subs --description 'mktai: sub-commands of the command path $argv[1]'",
        '    switch "$argv[1]"',
        *subs_cases,
        "    end",
        "end",
        "",
        "function __mktai_vopts --description 'mktai: options of $argv[1] (first argument $argv[2]) that take a value'",
        '    switch "$argv[1]"',
        *vopts_cases,
        "    end",
        "end",
        _FISH_HELPERS.rstrip("\n"),
        "",
        "complete -c mktai -e",
        "complete -c mktai -f",
        *completes,
    ]
    return "\n".join(lines) + "\n"


def _fish_option(condition: str, opt: Opt) -> str:
    flags = []
    for name in opt.names:
        if name.startswith("--"):
            flags.append(f"-l {_fish_sq(name[2:])}")
        elif len(name) == 2:
            flags.append(f"-s {_fish_sq(name[1:])}")
        else:
            flags.append(f"-o {_fish_sq(name[1:])}")
    if opt.value is not None:
        flags.append("-r " + _fish_action(opt.value))
    return f"complete -c mktai -n {condition} {' '.join(flags)} -d {_fish_sq(opt.help)}".rstrip()


def _fish_action(value: Value) -> str:
    if value.kind == "file":
        return "-F"
    if value.kind == "dir":
        return "-f -a '(__fish_complete_directories)'"
    if value.kind == "ref":
        return "-f -a '(__mktai_refs)'"
    if value.kind == "choice":
        return "-f -a " + _fish_sq(" ".join(value.choices))
    return "-f"


# --------------------------------------------------------------------------- entry point

RENDERERS = {"bash": render_bash, "zsh": render_zsh, "fish": render_fish}


def render_all(root: Cmd | None = None) -> dict[str, str]:
    """{file name: script text} for every shell."""
    root = root or describe_app()
    return {SHELL_FILES[shell]: render(root) for shell, render in RENDERERS.items()}


def write_all(out_dir: Path, root: Cmd | None = None) -> list[Path]:
    """Write the three scripts into out_dir; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, text in render_all(root).items():
        path = out_dir / file_name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def stale_files(out_dir: Path, root: Cmd | None = None) -> list[str]:
    """Names of the scripts in out_dir that differ from what the current app generates."""
    stale = []
    for file_name, text in render_all(root).items():
        path = out_dir / file_name
        if not path.is_file() or path.read_bytes() != text.encode("utf-8"):
            stale.append(file_name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mktai.cli.completions",
        description="Write static bash, zsh and fish completion scripts for mktai.",
    )
    parser.add_argument("out_dir", nargs="?", default="completions", type=Path)
    parser.add_argument(
        "--check", action="store_true", help="Exit 1 when the scripts in OUT_DIR are out of date."
    )
    ns = parser.parse_args(argv)
    if ns.check:
        stale = stale_files(ns.out_dir)
        if stale:
            print(
                f"out of date in {ns.out_dir}: {', '.join(stale)}; run `make completions`",
                file=sys.stderr,
            )
            return 1
        return 0
    for path in write_all(ns.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
