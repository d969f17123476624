"""FTM's version, from the installed distribution's metadata (a base module: anything may import it)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ftm")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
