"""What the command-line tools share: error reporting and exit codes."""

from __future__ import annotations

import sys
from typing import Callable, List, Optional

from ftm.codecs import CodecError
from ftm.config import ConfigError

EXIT_ERROR = 1  # the work failed: bad input, codec failure, checksum mismatch
EXIT_USAGE = 2  # the command line or a config file is wrong


def run_tool(prog: str, main: Callable[[Optional[List[str]]], int], argv: Optional[List[str]] = None) -> int:
    """Run a tool's main, turning expected failures into one clear line on stderr."""
    try:
        return main(argv)
    except ConfigError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except CodecError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        if e.stderr_tail:
            print(f"{prog}: the codec's last output:\n{e.stderr_tail}", file=sys.stderr)
        return EXIT_ERROR
    except (ValueError, OSError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
