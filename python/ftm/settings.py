"""HM-style settings: ``Key : Value  # comment`` files and ``--Key=Value`` overrides.

The reading machinery every FTM configuration shares: the codec keys of
``ftm-encode`` (:mod:`ftm.stream.config`), the common test conditions of
``ftm-ctc`` (:mod:`ftm.ctc.config`), and any later tool. A registry of
:class:`Key` objects says which names exist, which field each sets and how
its text parses; :func:`read_settings` reads files in order and then the
overrides, a later value winning; an unknown key, or a value that does not
parse, is a :class:`~ftm.errors.ConfigError` naming the file and line (or the
command-line argument). A key marked ``repeat`` may appear on several lines:
its value is the tuple of every line's value in the order read.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ftm.data import find_config, shipped_configs
from ftm.errors import ConfigError

__all__ = [
    "Key",
    "boolean",
    "choice_of",
    "describe_keys",
    "finite_float",
    "int_in",
    "int_list",
    "integer",
    "optional_float",
    "parse_setting",
    "plain_text",
    "read_settings",
]


@dataclass(frozen=True)
class Key:
    """One configuration key: its name, the field it sets, its parser and help.

    ``scope`` says where the key applies, for keys that belong to one codec or
    back end (for example ``"map"`` or ``"encoder=hm"``); empty: everywhere.
    The parser's docstring is the "Values" column of ``--help-keys``.
    """

    name: str
    field: str
    parse: Callable[[str], Any]
    help: str
    repeat: bool = False  # several lines accumulate instead of the last one winning
    scope: str = ""


def choice_of(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}; got {text!r}")
        return text

    parse.__doc__ = " | ".join(allowed)
    return parse


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError(f"expected an integer, got {text!r}")
        v = int(text)
        if not lo <= v <= hi:
            raise ValueError(f"expected an integer in [{lo}, {hi}], got {v}")
        return v

    parse.__doc__ = f"integer {lo}..{hi}"
    return parse


def int_list(text: str) -> Tuple[int, ...]:
    """comma-separated integers"""
    try:
        values = tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise ValueError(f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise ValueError("expected at least one value")
    return values


def integer(text: str) -> int:
    """integer"""
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"expected an integer, got {text!r}")
    return int(text)


def boolean(text: str) -> bool:
    """0 | 1"""
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected 0 or 1, got {text!r}")


def finite_float(text: str) -> float:
    """number"""
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"expected a finite number, got {text!r}")
    return v


def optional_float(text: str) -> Optional[float]:
    """number, or empty"""
    return None if text == "" else finite_float(text)


def plain_text(text: str) -> str:
    """text"""
    return text


def parse_setting(name: str, text: str, where: str, keys: Mapping[str, Key]) -> Dict[str, Any]:
    """``{field: value}`` for one ``name : text`` pair of the registry ``keys``.

    An unknown name or a value that does not parse is a ConfigError starting with ``where``.
    """
    at = f"{where}: " if where else ""
    key = keys.get(name)
    if key is None:
        hint = difflib.get_close_matches(name, keys, n=1)
        raise ConfigError(f"{at}unknown key {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    try:
        return {key.field: key.parse(text)}
    except ValueError as e:
        raise ConfigError(f"{at}{name}: {e}") from None


_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)\s*:\s*(.*?)\s*$")


def _file_entries(name: str) -> List[Tuple[str, str, str]]:
    """``(name, text, "file:line")`` for every setting of a config file, in order.

    A name that is not a file here may name a config FTM ships (``ctc_qp22.cfg``).
    """
    path = str(find_config(name))
    if os.path.isdir(path):
        raise ConfigError(f"config file {name!r} is a folder")
    if not os.path.isfile(path):
        shipped = ", ".join(shipped_configs())
        raise ConfigError(f"config file {name!r} does not exist (here, nor among the configs FTM ships: {shipped})")
    entries: List[Tuple[str, str, str]] = []
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            m = _LINE.match(line)
            if not m:
                raise ConfigError(f"{path}:{number}: expected 'Key : Value', got {raw.strip()!r}")
            entries.append((m.group(1), m.group(2), f"{path}:{number}"))
    return entries


def _override_entry(arg: str, where: str) -> Tuple[str, str, str]:
    m = re.fullmatch(r"--([A-Za-z][A-Za-z0-9]*)=(.*)", arg)
    if not m:
        raise ConfigError(f"expected --Key=Value, got {arg!r}")
    return m.group(1), m.group(2).strip(), where


def read_settings(
    files: Sequence[str],
    overrides: Sequence[str],
    keys: Mapping[str, Key],
    origins: Optional[Dict[str, Any]] = None,
    overrides_from: str = "command line",
) -> Dict[str, Any]:
    """``{field: value}`` from config files read in order, then ``--Key=Value`` overrides.

    A later value wins; a ``repeat`` key collects the tuple of the values of
    every line that sets it. ``origins``, when given, receives ``{field:
    where}`` ("file:line", or for an override ``overrides_from`` and the
    argument, "command line --QP=32"; "" when ``overrides_from`` is empty; a
    tuple of them for a ``repeat`` key), for messages about values that are
    only found wrong together with others.
    """
    entries: List[Tuple[str, str, str]] = []
    for path in files:
        entries.extend(_file_entries(path))
    entries.extend(_override_entry(arg, f"{overrides_from} {arg}" if overrides_from else "") for arg in overrides)
    values: Dict[str, Any] = {}
    found: Dict[str, Any] = {}
    for name, text, where in entries:
        for field, value in parse_setting(name, text, where, keys).items():
            if keys[name].repeat:
                values[field] = values.get(field, ()) + (value,)
                found[field] = found.get(field, ()) + (where,)
            else:
                values[field] = value
                found[field] = where
    if origins is not None:
        origins.update(found)
    return values


def describe_keys(keys: Sequence[Key], defaults: Any) -> str:
    """A table of every key, for --help-keys (``defaults``: an object holding each key's field)."""
    rows: List[Tuple[str, str, str, str]] = []
    for k in keys:
        default = getattr(defaults, k.field)
        if isinstance(default, bool):
            shown = str(int(default))  # the way such keys are written: 0 | 1
        elif default in (None, "", ()):
            shown = ""
        else:
            shown = ",".join(map(str, default)) if isinstance(default, tuple) else str(default)
        rows.append((k.name, (k.parse.__doc__ or "").strip(), shown, k.help))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{'Key'.ljust(width[0])}  {'Values'.ljust(width[1])}  {'Default'.ljust(width[2])}  Meaning"]
    for r in rows:
        lines.append(f"{r[0].ljust(width[0])}  {r[1].ljust(width[1])}  {r[2].ljust(width[2])}  {r[3]}")
    return "\n".join(lines)
