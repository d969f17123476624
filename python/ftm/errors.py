"""FTM's error family: every exception FTM raises on purpose derives from :class:`FtmError`.

Each class also keeps the built-in parent callers already catch
(``ValueError`` for wrong input, ``RuntimeError`` for a tool that failed,
``OSError`` for a busy folder), so ``except ValueError`` goes on working
while ``except ftm.FtmError`` catches all of them. The command-line tools
catch the family in one place (:mod:`ftm.cli._tool`): a :class:`ConfigError`
is a usage error (exit 2), every other member a failed piece of work (exit 1).

This module imports nothing from FTM: every room may raise these.
"""

from __future__ import annotations

from typing import Sequence

__all__ = [
    "BitstreamError",
    "CodecError",
    "CodecNotFoundError",
    "ConfigError",
    "DecodeLimitError",
    "FeatureSetError",
    "FolderBusyError",
    "FtmError",
    "InputError",
    "ModelError",
    "PayloadError",
    "StreamVerificationError",
    "WorkerLost",
]


class FtmError(Exception):
    """Base of every error FTM raises on purpose."""


class ConfigError(FtmError, ValueError):
    """A configuration key, value or command-line setting that is wrong, with where it came from."""


class InputError(FtmError, ValueError):
    """Input data that FTM cannot code or evaluate: a wrong shape, a NaN, an unreadable file."""


class BitstreamError(FtmError, ValueError):
    """A malformed or non-conforming .ftm stream or payload (raised by the C++ core too).

    The message names the tensor, the box, the syntax element and, for a
    parsed stream, the byte offset.
    """


class StreamVerificationError(BitstreamError):
    """Decoded tensors whose checksums differ from those the stream carries."""


class CodecError(FtmError, RuntimeError):
    """An external encoder or decoder failed, or produced something unusable.

    ``command`` is the command line that ran (empty when the error was found
    in a bitstream before or after running anything); ``stderr_tail`` is the
    end of what the tool wrote to its error output; ``message`` is the
    sentence without them.
    """

    def __init__(self, message: str, command: Sequence[str] = (), stderr_tail: str = "") -> None:
        self.command = list(command)
        self.stderr_tail = stderr_tail
        text = message
        if self.command:
            text += "\n  command: " + " ".join(self.command)
        if stderr_tail:
            text += "\n  stderr (tail):\n    " + stderr_tail.rstrip().replace("\n", "\n    ")
        super().__init__(text)
        self.message = message


class CodecNotFoundError(CodecError):
    """The external tool a back end needs is not installed or not where it was told to look."""


class PayloadError(CodecError, BitstreamError):
    """An external decoder ran and failed on a payload: a malformed HEVC payload, in effect.

    Raised when a decoder exits with an error or is killed by a signal (HM
    aborts on some corrupted slices), reports concealment or a picture-hash
    mismatch, or writes another number of frames than the record declares
    (it is stopped as soon as more arrive). It is both a :class:`CodecError`
    (it carries ``command`` and ``stderr_tail``) and a
    :class:`BitstreamError`, so ``except ValueError`` and ``except
    BitstreamError`` catch a malformed payload as they catch a malformed
    container. A tool that is missing stays a :class:`CodecNotFoundError`,
    one that runs past its timeout a plain :class:`CodecError`: neither says
    anything about the payload.
    """


class DecodeLimitError(FtmError, ValueError):
    """A well-formed stream asks for more than the decoder's limits allow.

    The message names the limit, what the stream asks for, and how to lift
    it (a keyword argument of :func:`ftm.decode`, an ``ftm-decode`` option);
    see :class:`ftm.codecs.options.DecodeLimits`.
    """


class FeatureSetError(FtmError, ValueError):
    """A feature set that is missing, malformed, or does not match its manifest."""


class ModelError(FtmError, ValueError):
    """A network that cannot be built: unknown name, missing or mismatched weights, a bad factory."""


class FolderBusyError(FtmError, OSError):
    """Another process holds the lock of a folder FTM writes."""


class WorkerLost(FtmError, RuntimeError):
    """The process or cluster worker running a job went away before the job finished."""


class JobsFailedError(FtmError, RuntimeError):
    """Jobs of a run failed; their records (kept for a rerun to retry) say why."""
