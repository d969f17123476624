"""One error family, one way from an error to an exit code, and the 0.1 names kept for one release."""

from __future__ import annotations

import importlib
import inspect

import pytest

import ftm
from ftm import _core, errors
from ftm.cli._tool import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, run_tool


def test_every_ftm_error_is_in_the_family_and_keeps_its_builtin_parent():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    assert len(classes) >= 10
    assert all(issubclass(c, errors.FtmError) for c in classes)
    for cls in (errors.ConfigError, errors.InputError, errors.BitstreamError, errors.StreamVerificationError,
                errors.FeatureSetError, errors.ModelError):  # fmt: skip
        assert issubclass(cls, ValueError), cls
    for cls in (errors.CodecError, errors.CodecNotFoundError, errors.WorkerLost):
        assert issubclass(cls, RuntimeError), cls
    assert issubclass(errors.FolderBusyError, OSError)
    assert ftm.FtmError is errors.FtmError and ftm.ConfigError is errors.ConfigError


def test_the_core_raises_the_family_s_bitstream_error():
    assert _core.BitstreamError is ftm.BitstreamError
    with pytest.raises(ftm.FtmError, match="not an FTM stream"):
        _core.parse_stream(b"not a stream")
    with pytest.raises(ValueError):
        ftm.decode_levels(b"\x00", 1, 1)


@pytest.mark.parametrize(
    "exc, status",
    [
        (errors.ConfigError("QP: bad"), EXIT_USAGE),
        (errors.InputError("NaN"), EXIT_ERROR),
        (errors.CodecError("x265 failed", ["x265"], "tail"), EXIT_ERROR),
        (errors.BitstreamError("truncated"), EXIT_ERROR),
        (FileNotFoundError("no such file"), EXIT_ERROR),
        (ImportError('pip install "ftm[extract]"'), EXIT_ERROR),
        (MemoryError(), EXIT_ERROR),
        (KeyboardInterrupt(), EXIT_INTERRUPTED),
    ],
)
def test_run_tool_maps_errors_to_one_line_and_an_exit_status(exc, status, capsys):
    def main(argv):
        raise exc

    assert run_tool("ftm-x", main, []) == status
    err = capsys.readouterr().err
    assert err.startswith("ftm-x: ") and "Traceback" not in err


def test_a_bug_is_not_swallowed():
    def main(argv):
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        run_tool("ftm-x", main, [])


@pytest.mark.parametrize("old, new", [("ftm.streams", "ftm.stream.coding"), ("ftm.evaluate", "ftm.evaluation"),
                                      ("ftm.codecs.hm", "ftm.codecs.video.hm"), ("ftm.entropy", "ftm.kernels.level_coder")])  # fmt: skip
def test_moved_modules_import_with_a_deprecation_warning(old, new):
    import sys

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)


def test_moved_names_that_are_functions_of_the_package_stay_functions():
    import ftm.quantize  # noqa: F401  (a 0.1 module path)

    assert callable(ftm.quantize) and callable(ftm.pack)
    from ftm.quantize import LogParams

    assert LogParams is ftm.LogParams


def test_video_names_on_ftm_codecs_are_deprecated_aliases():
    with pytest.warns(DeprecationWarning, match="ftm.codecs.video.make_encoder"):
        make = ftm.codecs.make_encoder
    assert make is ftm.codecs.video.make_encoder
    with pytest.raises(AttributeError):
        ftm.codecs.no_such_name  # noqa: B018
