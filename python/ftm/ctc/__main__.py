"""``python -m ftm.ctc`` is ``ftm-ctc``."""

from ftm.ctc.cli import console

if __name__ == "__main__":
    console()
