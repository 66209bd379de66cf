# SPDX-License-Identifier: GPL-2.0-only
"""Command-line options derived from a dataclass: one flag per field, its help from the
field's docstring (the string literal under it), its default and type from the field.

The dataclass stays the one place that names, types, documents and validates an option; the
CLI only decides which fields to offer and under which extra spellings.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import math
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: spellings that stand for None in optional string options
NONE_WORDS = ("none", "None")


def field_docs(cls: type) -> dict[str, str]:
    """The docstrings of a dataclass's fields (the string literal right after each field)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, after in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _number(kind: type, text: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _parser_of(annotation: Any) -> tuple[Callable[[str], Any] | None, bool]:
    """(argparse type, may be None) of a field annotation; (None, _) if not offered."""
    args = typing.get_args(annotation)
    optional = typing.get_origin(annotation) in (typing.Union, types.UnionType) and \
        type(None) in args
    if optional:
        (annotation,) = [a for a in args if a is not type(None)]
    if annotation is bool:
        return None, optional
    if annotation in (int, float):
        kind = annotation
        convert: Callable[[str], Any] = lambda text: _number(kind, text)  # noqa: E731
    elif annotation is str:
        convert = str
    else:
        return None, optional
    if optional:
        inner = convert
        convert = lambda text: None if text in NONE_WORDS else inner(text)  # noqa: E731
    return convert, optional


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type, *,
                            skip: Iterable[str] = (),
                            aliases: Mapping[str, Iterable[str]] | None = None,
                            choices: Mapping[str, Iterable[str]] | None = None,
                            required: Iterable[str] = ()) -> list[str]:
    """Add ``--field-name`` options for the fields of dataclass ``cls``.

    Int, float and str fields (optional ones accept ``none``) become typed options, bools
    ``--flag/--no-flag``; other fields (dicts, lists) are left to the caller.

    Args:
        skip: fields not offered.
        aliases: extra spellings per field (e.g. ``{"learning_rate": ["--lr"]}``).
        choices: accepted values per field.
        required: fields that must be given.

    Returns:
        The names of the fields added (for :func:`dataclass_kwargs`).
    """
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    aliases, choices, required = dict(aliases or {}), dict(choices or {}), set(required)
    added = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        convert, _ = _parser_of(hints[f.name])
        flags = [f"--{f.name.replace('_', '-')}", *aliases.get(f.name, ())]
        default = None if f.default is dataclasses.MISSING else f.default
        help_ = docs.get(f.name, "")
        if f.name not in required:
            help_ += f" (default: {default})" if default is not None else ""
        kwargs: dict[str, Any] = {"dest": f.name, "help": help_ or None,
                                  "required": f.name in required}
        if hints[f.name] is bool or hints[f.name] == bool | None:
            parser.add_argument(*flags, action=argparse.BooleanOptionalAction, default=default,
                                **kwargs)
        elif convert is not None:
            if f.name in choices:
                kwargs["choices"] = list(choices[f.name])
            parser.add_argument(*flags, type=convert, default=default, **kwargs)
        else:
            continue
        added.append(f.name)
    return added


def dataclass_kwargs(args: argparse.Namespace, names: Iterable[str]) -> dict[str, Any]:
    """The parsed values of the options :func:`add_dataclass_arguments` added."""
    return {name: getattr(args, name) for name in names}


__all__ = ["add_dataclass_arguments", "dataclass_kwargs", "field_docs"]
