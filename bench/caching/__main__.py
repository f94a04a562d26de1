"""``python -m bench.caching``: see :mod:`bench.caching.run`.

The import stays under the guard so that the processes spawned by the cross-process
single-flight test, which import this package again, do not start a run.
"""

from __future__ import annotations

if __name__ == "__main__":
    from .run import main

    raise SystemExit(main())
