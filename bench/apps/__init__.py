"""The benchmarked Dash app, once per backend; each module exposes ``app`` and ``server``."""
