"""What every command-line tool shares: one way from an error to a line on stderr and an exit code.

Every console entry point is ``console()`` of a module in this package,
which runs the tool's ``main(argv)`` through :func:`run_tool`:

- 0: done; 1: the work failed (bad input data, a codec or decoder failure,
  a checksum mismatch, a missing model file); 2: the command line or a
  configuration is wrong (argparse's own usage errors exit 2 as well);
  130: interrupted by Ctrl-C.
- Errors of FTM's family (:class:`ftm.FtmError`) and the usual failures of
  work (files that cannot be read or written, a missing optional package,
  memory) print one line, ``PROG: error: message``; never a traceback.

No module outside ``ftm.cli`` parses arguments or exits the process.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, List, Optional

from ftm.errors import CodecError, ConfigError, FtmError

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_USAGE", "check_overrides", "console", "report_parser", "run_tool",
           "set_torch_threads"]  # fmt: skip

EXIT_ERROR = 1  # the work failed: bad input, codec failure, checksum mismatch
EXIT_USAGE = 2  # the command line or a config file is wrong
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def _error(prog: str, exc: BaseException) -> None:
    print(f"{prog}: error: {exc}", file=sys.stderr)


def run_tool(prog: str, main: Callable[[Optional[List[str]]], int], argv: Optional[List[str]] = None) -> int:
    """Run a tool's main, turning expected failures into one clear line on stderr and an exit code."""
    try:
        return main(argv)
    except ConfigError as e:
        _error(prog, e)
        return EXIT_USAGE
    except CodecError as e:
        _error(prog, e)
        return EXIT_ERROR
    except (FtmError, ValueError, OSError, ImportError) as e:
        _error(prog, e)
        return EXIT_ERROR
    except MemoryError:
        print(f"{prog}: error: out of memory", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def console(prog: str, main: Callable[[Optional[List[str]]], int]) -> None:
    """A console script's body: run ``main`` on sys.argv and exit with its code."""
    sys.exit(run_tool(prog, main))


def set_torch_threads(threads: Optional[int]) -> None:
    """The --threads option of the tools that run a network: torch's intra-op threads."""
    if threads is None:
        return
    if threads < 1:
        raise ConfigError(f"--threads must be >= 1, got {threads}")
    from ftm.models.split import torch

    torch.set_num_threads(threads)


def check_overrides(rest: List[str]) -> List[str]:
    """The arguments argparse left over, each a ``--Key=Value`` setting; ConfigError naming the first that is not."""
    bad = [a for a in rest if not a.startswith("--") or "=" not in a]
    if bad:
        raise ConfigError(f"unrecognized argument {bad[0]!r}; settings are given as --Key=Value")
    return rest


def report_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The options of the tools that run an experiment from keys and write reports and plots to OutputDir."""
    p = argparse.ArgumentParser(prog=prog, description=description,
                                epilog="Any key can be given as --Key=Value; --help-keys lists them.")  # fmt: skip
    p.add_argument("-c", "--config", action="append", default=[], metavar="FILE", help="config file (repeatable; later files win)")
    p.add_argument("-o", "--output", metavar="DIR", help="output folder (OutputDir)")
    p.add_argument("--help-keys", action="store_true", help="list every key and exit")
    p.add_argument("--no-plots", action="store_true", help="write no PNG plot")
    p.add_argument("--no-progress", action="store_true", help="print no progress")
    return p
