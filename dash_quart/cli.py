"""``dash-quart run module:app``: the development server from the command line."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from quart import Quart


class TargetError(Exception):
    """The ``module:attribute`` target cannot be loaded."""


def load_server(target: str) -> Quart:
    """Import ``module:attribute`` and return its Quart server.

    The attribute may be a Dash app or a Quart app; without one, ``app`` then ``server``
    are tried.
    """
    module_name, _, attribute = target.partition(":")
    if not module_name:
        raise TargetError(
            f"Give the app as module:attribute, for example app:app (got {target!r})."
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise TargetError(
                f"Cannot import {module_name!r}: run from the directory that contains it, "
                "or give its dotted path."
            ) from error
        raise
    names = [attribute] if attribute else ["app", "server"]
    for name in names:
        obj: Any = getattr(module, name, None)
        if obj is None:
            continue
        server = getattr(obj, "server", obj)
        if isinstance(server, Quart):
            return server
        raise TargetError(
            f"{module_name}:{name} is a {type(obj).__name__}, not a Dash app on Quart. "
            "Create it with Dash(__name__, backend='quart')."
        )
    raise TargetError(f"{module_name!r} has no attribute {' or '.join(map(repr, names))}.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dash-quart", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an app with the development server")
    run.add_argument("target", help="module:attribute of a Dash app or its Quart server")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8050)
    run.add_argument("--reload", action="store_true", help="restart when a Python file changes")
    run.add_argument("--debug", action="store_true", help="enable Quart's debug mode")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        server = load_server(args.target)
    except TargetError as error:
        print(f"Error: {error}", file=sys.stderr)  # noqa: T201
        return 2
    from .devserver import serve_forever

    if args.debug:
        server.debug = True
    print(f" * Running on http://{args.host}:{args.port} (CTRL + C to quit)", flush=True)  # noqa: T201
    serve_forever(server, host=args.host, port=args.port, reload=args.reload)
    return 0
