"""FTM's command-line tools: the only place that parses arguments or exits the process.

One small module per console script (``ftm-encode`` is :mod:`ftm.cli.encode`,
and so on): each parses its arguments, calls library code, and returns an
exit status from ``main(argv)``; ``console()`` runs it through
:mod:`ftm.cli._tool`, which maps FTM's errors to one line and an exit code.
``python -m ftm.cli.<tool>`` runs a tool as well.
"""
