"""``LoginManager.protect_dash``: a login in front of a Dash app's pages and callbacks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from quart import Response, g, jsonify, request, websocket

from . import utils
from .config import config_value

if TYPE_CHECKING:
    from dash import Dash

    from .login_manager import LoginManager

#: Routes that serve code and static files, open to everyone so the login page renders.
_STATIC_PREFIXES = ("_dash-component-suites/", "_favicon.ico", "_reload-hash")
_PAGES_OUTPUT = "_pages_content"
_PAGES_LOCATION = "_pages_location"


def _page_path(path: str) -> str:
    return "/" + path.strip("/")


class _Guard:
    """Classifies one Dash app's requests and refuses anonymous users where needed."""

    def __init__(
        self,
        manager: LoginManager,
        app: Dash,
        public_routes: Iterable[str],
        public_callbacks: Iterable[str | dict[str, Any]],
    ) -> None:
        self.manager = manager
        self.app = app
        self.prefix: str = app.config.routes_pathname_prefix
        self.requests_prefix: str = app.config.requests_pathname_prefix
        self.public_pages = {_page_path(route) for route in public_routes}
        self.public_ids = [cid for cid in public_callbacks if isinstance(cid, dict)]
        self.public_names = {cid for cid in public_callbacks if isinstance(cid, str)}
        bp_prefix = self.prefix.replace("/", "_").replace(".", "_")
        self.assets_endpoint = f"{bp_prefix}dash_assets.static"
        self.ws_endpoint = f"{self.prefix}_dash-ws-callback"

    def _name(self, endpoint: str | None) -> str | None:
        """This app's route name for ``endpoint``, or None if it is not this app's."""
        if endpoint is None:
            return None
        if endpoint == self.assets_endpoint:
            return "assets"
        if endpoint.startswith("dash_callback_api_"):
            path = endpoint[len("dash_callback_api_") :]
            return "callback-api" if path in self.app.callback_api_paths else None
        if endpoint in self.app.routes or endpoint == self.ws_endpoint:
            return endpoint[len(self.prefix) :]
        return None

    async def _authenticated(self) -> bool:
        if config_value("LOGIN_DISABLED"):
            return True
        if g.get("_login_user") is None:
            await self.manager._load_user()
        return bool(utils.current_user.is_authenticated)

    def _is_public_id(self, component_id: Any) -> bool:
        if isinstance(component_id, str):
            return component_id in self.public_names
        if isinstance(component_id, dict):
            return any(
                all(component_id.get(k) == v for k, v in pattern.items())
                for pattern in self.public_ids
            )
        return False

    def _browser_path(self, path: str) -> str:
        return self.requests_prefix + path[len(self.prefix) :]

    async def _public_callback(self) -> bool:
        body = await request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            return False
        ids = [spec.get("id") for spec in _flatten(body.get("outputs"))]
        if ids and all(self._is_public_id(cid) for cid in ids):
            return True
        if _PAGES_OUTPUT in ids:
            for item in body.get("inputs") or ():
                if (
                    isinstance(item, dict)
                    and item.get("id") == _PAGES_LOCATION
                    and item.get("property") == "pathname"
                    and isinstance(item.get("value"), str)
                ):
                    pathname = item["value"]
                    if pathname.startswith(self.requests_prefix):
                        pathname = pathname[len(self.requests_prefix) :]
                    return _page_path(pathname) in self.public_pages
        return False

    async def before_request(self) -> Any:
        name = self._name(request.endpoint)
        if name is None or name == "assets" or name.startswith(_STATIC_PREFIXES):
            return None
        if name == self.app.config.get("health_endpoint"):
            return None
        if await self._authenticated():
            return None
        if name in ("", "<path:path>"):
            relative = _page_path(request.path[len(self.prefix) :])
            if relative in self.public_pages:
                return None
            return await self._login_redirect()
        if name in ("_dash-layout", "_dash-dependencies") and self.public_pages:
            return None
        if name == "_dash-update-component" and await self._public_callback():
            return None
        return _unauthorized_json()

    async def _login_redirect(self) -> Any:
        """What ``login_required`` answers, with ``next`` as the browser sees the page."""
        if not self.manager._login_view() and self.manager.unauthorized_callback is None:
            return _unauthorized_json()
        target = self._browser_path(request.path)
        query = request.query_string.decode("latin-1")
        return await self.manager.unauthorized_async(f"{target}?{query}" if query else target)

    async def before_websocket(self) -> None:
        if self._name(websocket.endpoint) != "_dash-ws-callback":
            return
        if await self._authenticated():
            return
        await websocket.accept()
        await websocket.close(4401, "Login required")


def _flatten(outputs: Any) -> list[dict[str, Any]]:
    """Every output spec of a request; wildcard (ALL) outputs come as nested lists."""
    if isinstance(outputs, dict):
        return [outputs]
    if isinstance(outputs, list):
        return [spec for item in outputs for spec in _flatten(item)]
    return [{"id": None}]


def _unauthorized_json() -> Response:
    response = jsonify({"error": {"status": 401, "message": "Login required."}})
    response.status_code = 401
    return response


def protect(
    manager: LoginManager,
    app: Dash,
    *,
    public_routes: Iterable[str],
    public_callbacks: Iterable[str | dict[str, Any]],
) -> None:
    guard = _Guard(manager, app, public_routes, public_callbacks)
    app.server.before_request(guard.before_request)
    app.server.before_websocket(guard.before_websocket)
