"""The package is a map of its architecture: rooms, and arrows that point down only.

Every import statement of every module under python/ftm (at the top or
inside a function) is read from its source and checked against the rooms of
docs/architecture.md: a module may import from its own room and from the
rooms its room lists below. Pipelines may also import pipelines listed
before them. Nothing imports the 0.1 module names kept for one release.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from ftm._moved import MOVED

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "ftm"

# room -> the module prefixes in it (a prefix matches itself and its submodules)
ROOMS: Dict[str, Tuple[str, ...]] = {
    "base": ("ftm._core", "ftm.errors", "ftm._version", "ftm._optional", "ftm._atomic", "ftm.settings", "ftm.io", "ftm.data"),
    "kernels": ("ftm.kernels",),
    "codecs": ("ftm.codecs",),
    "models": ("ftm.models",),
    "metrics": ("ftm.metrics",),
    "stream": ("ftm.stream",),
    "api": ("ftm",),  # the package's __init__: the public API gathered from the rooms
    "pipelines": ("ftm.extract", "ftm.evaluation", "ftm.ctc", "ftm.train", "ftm.rate_accuracy", "ftm.joint"),
    "tools": ("ftm.cli",),
    "moved": ("ftm._moved",),
}
# room -> the rooms below it that it may import (its own room is always allowed)
MAY_IMPORT: Dict[str, Tuple[str, ...]] = {
    "base": (),
    "kernels": ("base",),
    "codecs": ("kernels", "base"),
    "models": ("base",),
    "metrics": ("kernels", "base"),
    "stream": ("codecs", "kernels", "base"),
    "api": ("stream", "codecs", "kernels", "base", "moved"),
    "pipelines": ("stream", "codecs", "models", "metrics", "kernels", "base"),
    "tools": ("pipelines", "stream", "codecs", "models", "metrics", "kernels", "base"),
    "moved": (),  # imports its targets by name, at run time only
}
# within the pipelines room: each may import the ones before it
PIPELINE_ORDER = ("ftm.extract", "ftm.evaluation", "ftm.ctc", "ftm.train", "ftm.rate_accuracy", "ftm.joint")


def _prefixes(name: str) -> List[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def room_of(module: str) -> str:
    if module == "ftm":
        return "api"
    if module in MOVED:
        return "moved"
    for prefix in _prefixes(module)[:-1]:  # "ftm" alone names the api room, not everything under it
        for room, members in ROOMS.items():
            if prefix in members:
                return room
    raise AssertionError(f"{module} belongs to no room of docs/architecture.md")


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> Iterator[Tuple[int, str]]:
    """(line, imported module) of every import of FTM's own modules in a file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # "from ftm import codecs" imports the module ftm.codecs
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                yield node.lineno, candidate if _is_module(candidate) else target


def _is_module(name: str) -> bool:
    """A source file, a package, or the compiled core (its .so, or the stubs beside it)."""
    where = PACKAGE.parent / name.replace(".", "/")
    return (
        where.with_suffix(".py").is_file()
        or where.is_dir()
        or where.with_suffix(".pyi").is_file()
        or any(where.parent.glob(where.name + ".*.so"))
    )


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_room():
    assert MODULES, PACKAGE
    for path in MODULES:
        room_of(module_name(path))


def _allowed(importer: str, imported: str) -> bool:
    here, there = room_of(importer), room_of(imported)
    if there == "moved" and here != "api":
        return False
    if here == there:
        if here != "pipelines":
            return True
        order = {p: i for i, p in enumerate(PIPELINE_ORDER)}
        mine = next(p for p in _prefixes(importer) if p in order)
        theirs = next(p for p in _prefixes(imported) if p in order)
        return order[theirs] <= order[mine]
    return there in MAY_IMPORT[here]


def violations() -> List[str]:
    found = []
    for path in MODULES:
        importer = module_name(path)
        for line, imported in imports_of(path):
            if imported != "ftm" and not imported.startswith("ftm."):
                continue
            if not _allowed(importer, imported):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {room_of(importer)} "
                             f"({importer}) imports {room_of(imported)} ({imported})")  # fmt: skip
    return found


def test_imports_point_down_only():
    assert violations() == []


@pytest.mark.parametrize(
    "importer, imported, allowed",
    [
        ("ftm.kernels.quantize", "ftm.stream.coding", False),
        ("ftm.codecs.video_maps", "ftm.kernels.pack", True),
        ("ftm.models.split", "ftm.kernels.pack", False),
        ("ftm.extract.pipeline", "ftm.ctc.runner", False),
        ("ftm.ctc.job", "ftm.evaluation.layer", True),
        ("ftm.stream.coding", "ftm", False),
        ("ftm.cli.encode", "ftm.stream.coding", True),
        ("ftm.stream.coding", "ftm.cli._tool", False),
        ("ftm.ctc.job", "ftm.config", False),  # a name of 0.1 kept for one release
        ("ftm.rate_accuracy.runner", "ftm.train.run", True),
        ("ftm.train.methods", "ftm.rate_accuracy.runner", False),
        ("ftm.codecs.learned.codec", "ftm.train.networks", False),
    ],
)
def test_the_rule_itself(importer, imported, allowed):
    assert _allowed(importer, imported) is allowed


def test_console_scripts_point_into_ftm_cli():
    text = (PACKAGE.parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    targets = [line.split("=", 1)[1].strip().strip('"') for line in section.strip().splitlines() if "=" in line]
    assert targets and all(t.startswith("ftm.cli.") and t.endswith(":console") for t in targets), targets


def test_argument_parsing_and_exits_only_in_the_tools():
    for path in MODULES:
        if room_of(module_name(path)) == "tools":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
            n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
        }
        imported = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        assert "argparse" not in imported, path
        assert "exit" not in names, path  # sys.exit: only the tools end the process
        functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert "main" not in functions, path


def test_modules_stay_small():
    big = [(p.relative_to(PACKAGE.parent), n) for p in MODULES if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400]
    assert big == []
