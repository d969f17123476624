"""Rate-accuracy comparison of vector codecs, as seed 001 reports it (Table 1, Fig. 4/5, BD-rates).

- :mod:`~ftm.rate_accuracy.config`: the sweep's settings (``cfg/seed001.cfg``);
- :mod:`~ftm.rate_accuracy.runner`: train, code through .ftm streams, evaluate;
- :mod:`~ftm.rate_accuracy.reports`, :mod:`~ftm.rate_accuracy.plots`: Table 1
  layout, every figure, BD-rates; CSV, JSON, Markdown, PNG.

``ftm-rate-accuracy`` (:mod:`ftm.cli.rate_accuracy`) is its command line.
"""
