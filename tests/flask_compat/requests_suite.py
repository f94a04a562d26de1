"""The requests sent to the legacy blueprint, identically, under Flask and under the bridge."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from werkzeug.test import encode_multipart


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


def _json(value: object) -> tuple[bytes, dict[str, str]]:
    return json.dumps(value).encode(), {"Content-Type": "application/json"}


def _form(**values: str) -> tuple[bytes, dict[str, str]]:
    from urllib.parse import urlencode

    return urlencode(values).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def _multipart() -> tuple[bytes, dict[str, str]]:
    import io

    from werkzeug.datastructures import FileStorage

    boundary, data = encode_multipart(
        {
            "note": "two files",
            "report": FileStorage(io.BytesIO(b"a,b\n1,2\n"), "report.csv", content_type="text/csv"),
            "image": FileStorage(io.BytesIO(bytes(range(256))), "img.bin",
                                 content_type="application/octet-stream"),
        },
        boundary="legacyboundary",
    )
    return data, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


J, JH = _json({"a": [1, 2], "b": {"c": "é"}})
F, FH = _form(name="widget", tag="x")
M, MH = _multipart()

CALLS: list[Call] = [
    Call("GET", "/legacy/echo", "a=1&a=2&b=%C3%A9", headers={"X-Trace": "t1", "X-User": "ann"}),
    Call("POST", "/legacy/echo", "q=1", F, {**FH, "X-User": "bob"}),
    Call("PUT", "/legacy/echo", body=J, headers=JH),
    Call("DELETE", "/legacy/echo", body=b"raw text", headers={"Content-Type": "text/plain"}),
    Call("GET", "/legacy/echo", cookies={"theme": "dark", "lang": "fr"}),
    Call("POST", "/legacy/json", body=J, headers=JH),
    Call("POST", "/legacy/json", body=b'{"broken": ', headers=JH),
    Call("POST", "/legacy/json", body=b"a=1", headers={"Content-Type": "text/plain"}),
    Call("POST", "/legacy/upload", body=M, headers=MH),
    Call("GET", "/legacy/context", headers={"X-User": "carol"}),
    Call("POST", "/legacy/session/colour/blue"),
    Call("GET", "/legacy/session"),
    Call("GET", "/legacy/urls"),
    Call("GET", "/legacy/abort/403"),
    Call("GET", "/legacy/abort/410"),
    Call("GET", "/legacy/missing-thing"),
    Call("GET", "/legacy/teapot"),
    Call("GET", "/legacy/go"),
    Call("GET", "/legacy/flash"),
    Call("GET", "/legacy/flashes"),
    Call("GET", "/legacy/flashes"),
    Call("GET", "/legacy/made"),
    Call("GET", "/legacy/tuple"),
    Call("GET", "/legacy/page/Ada"),
    Call("GET", "/legacy/inline", "word=quart"),
    Call("GET", "/legacy/download"),
    Call("GET", "/legacy/asset/app.css"),
    Call("GET", "/legacy/static/app.css"),
    Call("GET", "/legacy/stream", "n=4&word=part"),
    Call("GET", "/legacy/lang/fr/hello"),
    Call("GET", "/legacy/async", headers={"X-User": "dave"}),
    Call("GET", "/legacy/items"),
    Call("GET", "/legacy/items/2"),
    Call("GET", "/legacy/items/9"),
    Call("POST", "/legacy/items", body=F, headers=FH),
    Call("DELETE", "/legacy/items/1"),
    Call("PATCH", "/legacy/items/1"),
    Call("OPTIONS", "/legacy/items"),
    Call("HEAD", "/legacy/context"),
    Call("GET", "/legacy/admin/dashboard", headers={"X-User": "root"}),
    Call("GET", "/legacy/echo/"),
    Call("GET", "/legacy/no/such/page"),
    Call("POST", "/legacy"),
]

COMPARED_HEADERS = (
    "Content-Type", "Content-Length", "Location", "X-Legacy", "X-Made", "X-Tuple",
    "Content-Disposition", "Allow", "Cache-Control", "ETag", "Vary",
)
