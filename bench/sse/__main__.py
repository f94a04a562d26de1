"""``python -m bench.sse``: see :mod:`bench.sse.run`.

The import stays under the guard so that the spawned client processes, which import this
module again, load only the client code.
"""

from __future__ import annotations

if __name__ == "__main__":
    from .run import main

    raise SystemExit(main())
