"""The ``EventSource`` Dash component (its JavaScript is ``event_source.js``)."""

from __future__ import annotations

from typing import Any

from dash.development.base_component import Component, _explicitize_args

_PROPS = [
    "id",
    "url",
    "events",
    "withCredentials",
    "close",
    "message",
    "event",
    "lastEventId",
    "readyState",
    "n_messages",
    "error",
]


class EventSource(Component):  # type: ignore[misc]
    """Receives server-sent events from ``url`` and exposes them as Dash properties.

    Inputs: ``url``, ``events`` (named event types to listen to, besides ``message``),
    ``withCredentials`` and ``close`` (True disconnects). Outputs, usable as callback
    ``Input``s: ``message`` (the last event's data, JSON-parsed when it is JSON), ``event``
    (its type), ``lastEventId``, ``readyState`` (0 connecting, 1 open, 2 closed),
    ``n_messages`` and ``error`` (a dict with the reason, or None). On a lost connection it
    reconnects with exponential backoff capped at 30 s, resuming after ``lastEventId``::

        EventSource(id="live", url="/prices", events=["tick"])

        @callback(Output("price", "children"), Input("live", "message"))
        def show(message): ...

    .. versionadded:: 0.1
    """

    _children_props: list[str] = []
    _base_nodes = ["children"]
    _namespace = "dash_quart"
    _type = "EventSource"

    @_explicitize_args  # type: ignore[untyped-decorator]
    def __init__(
        self,
        id: str | dict[str, Any] | None = None,  # noqa: A002 - Dash's prop name
        url: str | None = None,
        events: list[str] | None = None,
        withCredentials: bool | None = None,  # noqa: N803 - the browser API's name
        close: bool | None = None,
        message: Any = None,
        event: str | None = None,
        lastEventId: str | None = None,  # noqa: N803
        readyState: int | None = None,  # noqa: N803
        n_messages: int | None = None,
        error: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._prop_names = list(_PROPS)
        self._valid_wildcard_attributes: list[str] = []
        self.available_properties = list(_PROPS)
        self.available_wildcard_properties: list[str] = []
        explicit = kwargs.pop("_explicit_args")
        values = {**locals(), **kwargs}
        super().__init__(**{name: values[name] for name in explicit})
