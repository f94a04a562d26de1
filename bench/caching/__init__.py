"""dash-quart-caching side by side with Flask-Caching: ``python -m bench.caching``.

See :mod:`bench.caching.run` for what is measured.
"""
