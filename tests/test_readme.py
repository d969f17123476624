"""The README's examples run as written."""

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def python_blocks(text):
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_python_example_runs_from_any_folder(monkeypatch, capsys, tmp_path):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        blocks = python_blocks(f.read())
    assert blocks, "the README has no Python example"
    monkeypatch.chdir(tmp_path)  # cfg/ctc_qp22.cfg names the config FTM ships, wherever this runs
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out.split()
    assert float(printed[0]) < 0.2  # compression rate of the bundled input at QP 22
    assert float(printed[-1]) == pytest.approx(1 - 1 / 6)  # one swap among 4 elements
