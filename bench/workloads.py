"""The callback request each workload sends, and the answer that proves it ran."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from .apps.common import WORKLOADS

CALLBACK_PATH = "/_dash-update-component"


class Probe(Protocol):
    """What the runner needs of a workload: the request it repeats and how to check the answer.

    ``expected()`` is a substring of every right answer, which wrk's script looks for;
    ``accepts()`` checks the first answer in full.
    """

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def content_type(self) -> str | None: ...

    def body(self) -> str | None: ...

    def expected(self) -> str: ...

    def accepts(self, data: bytes) -> bool: ...


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    method: str = "POST"
    path: str = CALLBACK_PATH
    content_type: str | None = "application/json"

    def body(self, value: int = 7) -> str:
        """A Dash callback request body, as the renderer sends it for one input change."""
        return json.dumps(
            {
                "output": f"out-{self.name}.children",
                "outputs": {"id": f"out-{self.name}", "property": "children"},
                "inputs": [{"id": f"in-{self.name}", "property": "value", "value": value}],
                "changedPropIds": [f"in-{self.name}.value"],
                "state": [],
            },
            separators=(",", ":"),
        )

    def expected(self, value: int = 7) -> str:
        """A substring of every correct response to :meth:`body`."""
        return f"{self.name} {value}"

    def accepts(self, data: bytes) -> bool:
        return self.expected().encode() in data


ALL: dict[str, Workload] = {
    "io_async": Workload("io_async", "async def callback, await asyncio.sleep(0.05)"),
    "io_sync": Workload("io_sync", "def callback, time.sleep(0.05)"),
    "cpu": Workload("cpu", "def callback, about 1 ms of pure Python work"),
}

assert tuple(ALL) == WORKLOADS
