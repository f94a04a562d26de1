"""``QuartBackend``: Dash's Quart backend with sync callbacks off the event loop.

This is the only module of dash_quart that touches Dash internals (private ``Dash`` methods
and the structure of ``QuartDashServer``). :func:`check_dash_version` runs at import time and
fails loudly when the installed Dash is outside the tested range or has changed shape.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterable
from contextvars import copy_context
from typing import TYPE_CHECKING, Any, cast

import dash
from dash.backends._quart import QuartDashServer
from dash.exceptions import CallbackException
from quart import Quart, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .concurrency import SyncPool, ensure_async_in, run_in_pool
from .requests import preload_body
from .state import server_state

if TYPE_CHECKING:
    from dash import Dash

#: Dash versions whose internals this module was tested against. Keep in step with the
#: ``dash`` requirement in pyproject.toml.
SUPPORTED_DASH = ((4, 2), (5, 0))

#: The private names used below, per class. If Dash renames one, importing fails loudly.
_REQUIRED_INTERNALS: dict[str, tuple[str, ...]] = {
    "Dash": (
        "_initialize_context",
        "_prepare_callback",
        "_inputs_to_vals",
        "_execute_callback",
        "_add_url",
    ),
    "QuartDashServer": (
        "serve_callback",
        "serve_websocket_callback",
        "get_callback_executor",
        "add_url_rule",
        "before_request",
        "register_callback_api_routes",
        "register_prune_error_handler",
        "run",
    ),
}


class UnsupportedDashVersionError(RuntimeError):
    """The installed Dash is outside the range dash_quart was tested against."""


def _version_tuple(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def check_dash_version(
    version: str | None = None,
    dash_cls: type[Any] | None = None,
    backend_cls: type[Any] | None = None,
) -> None:
    """Raise :class:`UnsupportedDashVersionError` unless Dash matches what this module expects."""
    version = dash.__version__ if version is None else version
    classes = {
        "Dash": dash.Dash if dash_cls is None else dash_cls,
        "QuartDashServer": QuartDashServer if backend_cls is None else backend_cls,
    }
    low, high = SUPPORTED_DASH
    fix = "Install a supported Dash: pip install 'dash[quart]>=4.2,<5'"
    if not low <= _version_tuple(version) < high:
        raise UnsupportedDashVersionError(
            f"dash_quart supports Dash >=4.2,<5 but Dash {version} is installed. {fix}"
        )
    for cls_name, names in _REQUIRED_INTERNALS.items():
        cls = classes[cls_name]
        missing = [name for name in names if not hasattr(cls, name)]
        if missing:
            raise UnsupportedDashVersionError(
                f"Dash {version} changed {cls_name} (missing: {', '.join(missing)}); "
                f"dash_quart cannot run on it. {fix}"
            )


check_dash_version()


#: Dash's own checks that a request's outputs and inputs match the callback it names; they
#: run before the callback and mean the request was forged or stale.
_REQUEST_MISMATCH = {
    "Output does not match callback definition",
    "Wrong length output_spec",
    "Inputs do not match callback definition",
}


class BadCallbackRequestError(ValueError):
    """A ``_dash-update-component`` body that cannot be a Dash callback request."""


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": {"status": status, "message": message}})
    response.status_code = status
    return response


def _check_dependency(value: Any, where: str) -> None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, dict):
            raise BadCallbackRequestError(f"'{where}' entries must be objects.")
        if not isinstance(item.get("id"), (str, dict)) or not isinstance(
            item.get("property"), str
        ):
            raise BadCallbackRequestError(
                f"'{where}' entries need a string or dict 'id' and a string 'property'."
            )


def parse_callback_body(raw: bytes) -> dict[str, Any]:
    """Decode and shape-check a callback request body, raising :class:`BadCallbackRequestError`."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise BadCallbackRequestError(f"The request body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise BadCallbackRequestError("The request body must be a JSON object.")
    if not isinstance(body.get("output"), str):
        raise BadCallbackRequestError("The request body needs a string 'output'.")
    for key in ("inputs", "state"):
        value = body.get(key, [])
        if not isinstance(value, list):
            raise BadCallbackRequestError(f"'{key}' must be a list.")
        for entry in value:
            _check_dependency(entry, key)
    outputs = body.get("outputs", [])
    if not isinstance(outputs, (list, dict)):
        raise BadCallbackRequestError("'outputs' must be an object or a list.")
    for entry in outputs if isinstance(outputs, list) else [outputs]:
        _check_dependency(entry, "outputs")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(p, str) for p in changed):
        raise BadCallbackRequestError("'changedPropIds' must be a list of strings.")
    return body


def _check_output_shape(spec: dict[str, Any], body: dict[str, Any]) -> None:
    """A multi-output callback is posted a list of outputs, a single-output one an object."""
    if spec.get("no_output") or "outputs" not in body:
        return
    multi = body["output"].startswith("..")
    if multi != isinstance(body.get("outputs"), list):
        raise BadCallbackRequestError("'outputs' does not match the shape of the callback.")


class _NamedWebsocketRoutes:
    """A view of the Quart app whose ``websocket()`` registers under a given endpoint.

    Dash's backend registers every WebSocket callback route as endpoint
    ``websocket_handler``, so a second Dash app on the same server fails with
    "View function mapping is overwriting an existing endpoint function".
    """

    def __init__(self, server: Quart, endpoint: str) -> None:
        self._server = server
        self._endpoint = endpoint

    def websocket(self, rule: str, **options: Any) -> Callable[..., Any]:
        options.setdefault("endpoint", self._endpoint)
        return self._server.websocket(rule, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


def is_dash_own_hook(func: Callable[..., Any]) -> bool:
    """Whether ``func`` is one of the request hooks Dash registers for its own routes.

    Those are ``Dash._setup_server`` (first-request setup, a no-op afterwards) and the pages
    router of ``Dash.enable_pages``. Bridged Flask views do not need them, so they do not stop
    bridged requests from skipping Quart's request cycle; any other hook does.
    """
    owner = getattr(func, "__self__", None)
    if not isinstance(owner, dash.Dash):
        return getattr(func, "__qualname__", "").startswith(_PAGES_ROUTER) and (
            getattr(func, "__module__", None) == dash.Dash.__module__
        )
    return getattr(func, "__func__", None) is dash.Dash._setup_server


#: The qualified name prefix of the pages router hooks that ``Dash.enable_pages`` defines.
_PAGES_ROUTER = "Dash.enable_pages.<locals>.router"


class QuartBackend(QuartDashServer):  # type: ignore[misc]
    """Dash's Quart backend, fixed for production use.

    - sync (``def``) callbacks, sync views and sync route hooks run in a bounded thread pool
      (``DASH_QUART_SYNC_WORKERS``) with :mod:`contextvars` copied; async ones stay on the loop;
    - several Dash apps with different ``url_base_pathname`` share one Quart server;
    - ``@dash.hooks.route`` accepts ``async def``;
    - malformed callback requests get a JSON 400, oversized ones a 413, never a 500;
    - ``app.run(debug=True)`` reloads when a Python file changes.

    Every ``Dash(backend="quart")`` app uses it once dash_quart is installed; it can also be
    named explicitly: ``Dash(__name__, backend=QuartBackend)``.

    .. versionadded:: 0.1
    """

    server: Quart

    def __init__(self, server: Quart) -> None:
        super().__init__(server)
        self.server_type = "quart"

    @property
    def pool(self) -> SyncPool:
        """The server's shared pool for sync user code."""
        return server_state(self.server).pool

    def get_callback_executor(self, max_workers: int | None = None) -> SyncPool:
        return self.pool

    def shutdown_executor(self, wait: bool = True) -> None:
        """The pool belongs to the server and is shut down when it stops serving."""

    def add_url_rule(
        self,
        rule: str,
        view_func: Callable[..., Any],
        endpoint: str | None = None,
        methods: list[str] | None = None,
    ) -> None:
        view = ensure_async_in(lambda: self.pool, view_func)
        self.server.add_url_rule(
            rule, view_func=view, endpoint=endpoint, methods=methods or ["GET"]
        )

    def before_request(self, func: Callable[[], Any]) -> None:
        # Dash's own hooks (first-request setup, the pages router) are quick and sync; running
        # them inline as async hooks avoids a thread hop on every request.
        hook: Callable[[], Any] = func
        if not inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def _inline() -> Any:
                return func()

            hook = _inline
        if is_dash_own_hook(func):
            server_state(self.server).dash_hooks.add(hook)
        self.server.before_request(hook)

    def register_prune_error_handler(self, secret: str, prune_errors: bool) -> None:
        super().register_prune_error_handler(secret, prune_errors)

        # Dash's debug handler catches Exception, which would turn 400/404/413 into 500.
        @self.server.errorhandler(HTTPException)
        async def _http_error(error: HTTPException) -> HTTPException:
            return error

    def serve_callback(self, dash_app: Dash) -> Callable[[], Any]:
        async def _dispatch() -> Any:
            try:
                raw = cast(bytes, await request.get_data(cache=True, as_text=False))
            except RequestEntityTooLarge:
                return _error(413, "The request body is larger than MAX_CONTENT_LENGTH.")
            try:
                body = parse_callback_body(raw)
                cb_ctx = dash_app._initialize_context(body)
                func = dash_app._prepare_callback(cb_ctx, body)
                _check_output_shape(dash_app.callback_map[body["output"]], body)
                args = dash_app._inputs_to_vals(cb_ctx.inputs_list + cb_ctx.states_list)
            except BadCallbackRequestError as error:
                return _error(400, str(error))
            except KeyError:
                return _error(400, f"No callback is registered for output {body['output']!r}.")
            except (TypeError, ValueError, AttributeError, IndexError, RecursionError) as error:
                return _error(400, f"Malformed callback request: {error}")
            partial = dash_app._execute_callback(func, args, cb_ctx.outputs_list, cb_ctx)
            try:
                if inspect.iscoroutinefunction(func):
                    response_data = await copy_context().run(partial)
                else:
                    await preload_body()
                    response_data = await run_in_pool(self.pool, partial)
            except CallbackException as error:
                if str(error) in _REQUEST_MISMATCH:
                    return _error(400, f"The request does not match the callback: {error}")
                raise
            return cb_ctx.dash_response.set_response(data=response_data)

        # Keep the identity Dash gives this view, which CSRF exemptions key on.
        _dispatch.__name__ = "dispatch"
        _dispatch.__qualname__ = "dispatch"
        _dispatch.__module__ = "dash.dash"
        return _dispatch

    def register_callback_api_routes(
        self, callback_api_paths: dict[str, Callable[..., Any]]
    ) -> None:
        for path, handler in callback_api_paths.items():
            route = path if path.startswith("/") else f"/{path}"
            self.server.add_url_rule(
                route,
                endpoint=f"dash_callback_api_{path}",
                view_func=self._api_view(handler),
                methods=["POST"],
            )

    def _api_view(self, handler: Callable[..., Any]) -> Callable[[], Any]:
        call = ensure_async_in(lambda: self.pool, handler)

        async def _api() -> Any:
            data = await request.get_json(force=True, silent=True)
            if data is not None and not isinstance(data, dict):
                return _error(400, "The request body must be a JSON object of arguments.")
            try:
                result = await call(**(data or {}))
            except TypeError as error:
                return _error(400, f"Bad arguments: {error}")
            return jsonify(result)

        return _api

    def serve_websocket_callback(self, dash_app: Dash) -> None:
        prefix = dash_app.config.routes_pathname_prefix
        endpoint = f"{prefix}_dash-ws-callback"
        server: Quart = self.server
        self.server = cast(Quart, _NamedWebsocketRoutes(server, endpoint))
        try:
            super().serve_websocket_callback(dash_app)
        finally:
            self.server = server

    def run(self, dash_app: Dash, host: str, port: int, debug: bool, **kwargs: Any) -> None:
        from .devserver import serve_forever

        use_reloader = kwargs.pop("use_reloader", None)
        reload = bool(debug) if use_reloader is None else bool(use_reloader)
        extra_files: Iterable[str] = kwargs.pop("extra_files", None) or ()
        if debug:
            self.server.debug = True
        print(f" * Serving Dash app '{dash_app.config.name}' with dash-quart")  # noqa: T201
        print(f" * Debug mode: {bool(debug)}, reload: {reload}")  # noqa: T201
        print(f" * Running on http://{host}:{port} (CTRL + C to quit)")  # noqa: T201
        serve_forever(
            self.server,
            host=host,
            port=port,
            reload=reload,
            extra_files=extra_files,
            on_shutdown=self._set_ws_shutdown,
        )

    def _set_ws_shutdown(self, event: Any) -> None:
        self._ws_shutdown_event = event
