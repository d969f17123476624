"""ftm._core's layout: one submodule per binding file, the deprecated flat
names of FTM 0.1 as aliases, and type stubs that name what the module has."""

import ast
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

import ftm
from ftm import _core

SUBMODULES = ["bitstream", "bubble_index", "level_coder", "pack", "quantize", "threads"]

# Every public name of FTM 0.1's flat ftm._core.
FLAT_NAMES = """
MIN_BITS MAX_BITS MIN_QP MAX_QP PACK_CHANNEL PACK_TILED LEVEL_HEADER_BYTES
MIN_ADAPTATION_SHIFT MAX_ADAPTATION_SHIFT set_num_threads num_threads log_quantize
log_dequantize minmax_quantize minmax_dequantize qstep sq_quantize sq_dequantize
pack_geometry pack unpack inversion_count bubble_index inversion_count_batch
bubble_index_batch encode_levels decode_levels BitstreamError FeatureKind SourceDtype
PackMode LogQuantBox MinMaxQuantBox PackBox HevcBox ScalarQuantBox HashBox
TensorRecord Stream validate_stream write_stream parse_stream
""".split()

STUBS = Path(ftm.__file__).parent / "_core"


def public(module):
    return {k for k in vars(module) if not k.startswith("_")}


@pytest.mark.parametrize("name", SUBMODULES)
def test_submodule_imports_both_ways(name):
    sub = importlib.import_module(f"ftm._core.{name}")
    assert sys.modules[f"ftm._core.{name}"] is sub
    assert getattr(_core, name) is sub
    assert sub.__name__ == f"ftm._core.{name}"


def test_import_statements():
    import ftm._core.bitstream as by_path
    from ftm._core import bitstream

    assert by_path is bitstream is _core.bitstream


def test_every_flat_name_aliases_its_submodule():
    owners = {}
    for name in SUBMODULES:
        for key in public(getattr(_core, name)):
            assert key not in owners, f"{key} in both {owners.get(key)} and {name}"
            owners[key] = name
    assert set(FLAT_NAMES) <= set(owners)  # names added since 0.1 live in their submodule only
    for key, name in owners.items():
        if key == name:
            continue  # the submodule itself, below
        if key in FLAT_NAMES:
            assert getattr(_core, key) is getattr(getattr(_core, name), key), key
        else:
            assert not hasattr(_core, key), f"{key} is new since 0.1: no flat alias"


def test_submodules_named_like_a_function_call_it():
    s_p = np.arange(6, dtype=np.int64)
    s_r = s_p[::-1].copy()
    assert _core.bubble_index(s_p, s_r) == _core.bubble_index.bubble_index(s_p, s_r) == 0.0
    codes = np.arange(2 * 3 * 4 * 4, dtype=np.uint8).reshape(2, 3, 4, 4)
    np.testing.assert_array_equal(
        _core.pack(codes, _core.PACK_CHANNEL, 0, 0), _core.pack.pack(codes, _core.pack.PACK_CHANNEL, 0, 0)
    )


def stub_names(path):
    """Top-level names a stub file declares (imports included)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and node.module != "typing":
            names.update(a.asname for a in node.names if a.asname)
    return names


@pytest.mark.parametrize("name", SUBMODULES)
def test_stub_declares_what_the_submodule_has(name):
    assert stub_names(STUBS / f"{name}.pyi") == public(getattr(_core, name))


def test_package_stub_declares_submodules_and_flat_names():
    assert stub_names(STUBS / "__init__.pyi") == set(SUBMODULES) | set(FLAT_NAMES)
    assert public(_core) == set(SUBMODULES) | set(FLAT_NAMES)


def test_bitstream_error_is_ftms_own_class():
    from ftm import errors

    assert _core.bitstream.BitstreamError is errors.BitstreamError
    assert _core.BitstreamError is errors.BitstreamError


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: _core.bitstream.parse_stream(b"junk"), "magic: not an FTM stream"),
        (lambda: _core.level_coder.decode_levels(b"\x59\x0d\x00", 1, 1), "CABAC payload must hold at least 4 bytes"),
    ],
)
def test_core_raises_bitstream_error_with_the_cpp_message(call, message):
    from ftm import errors

    with pytest.raises(errors.BitstreamError, match=message) as info:
        call()
    assert type(info.value) is errors.BitstreamError
    assert isinstance(info.value, errors.FtmError) and isinstance(info.value, ValueError)


def test_other_errors_keep_their_mapping():
    from ftm import errors

    with pytest.raises(ValueError, match="unknown pack mode 7") as info:
        _core.pack.pack_geometry(7, 1, 1, 1, 1, 0, 0)
    assert not isinstance(info.value, errors.FtmError)
