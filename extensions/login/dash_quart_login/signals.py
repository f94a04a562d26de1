"""Signals, with Flask-Login's names; receivers get the app as sender."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent when a user is logged in, with ``user``.
user_logged_in = _signals.signal("logged-in")
#: Sent when a user is logged out, with ``user``.
user_logged_out = _signals.signal("logged-out")
#: Sent when a user is loaded from the remember cookie, with ``user``.
user_loaded_from_cookie = _signals.signal("loaded-from-cookie")
#: Sent when a user is loaded by the request loader, with ``user``.
user_loaded_from_request = _signals.signal("loaded-from-request")
#: Sent when a login is confirmed (made fresh again).
user_login_confirmed = _signals.signal("login-confirmed")
#: Sent when ``unauthorized`` is called.
user_unauthorized = _signals.signal("unauthorized")
#: Sent when ``needs_refresh`` is called.
user_needs_refresh = _signals.signal("needs-refresh")
#: Sent whenever the user is loaded (once per request or websocket).
user_accessed = _signals.signal("accessed")
#: Sent when session protection takes effect.
session_protected = _signals.signal("session-protected")
