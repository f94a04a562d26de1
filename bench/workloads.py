"""The callback request each workload sends, and the answer that proves it ran."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .apps.common import WORKLOADS

CALLBACK_PATH = "/_dash-update-component"


@dataclass(frozen=True)
class Workload:
    name: str
    description: str

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


ALL: dict[str, Workload] = {
    "io_async": Workload("io_async", "async def callback, await asyncio.sleep(0.05)"),
    "io_sync": Workload("io_sync", "def callback, time.sleep(0.05)"),
    "cpu": Workload("cpu", "def callback, about 1 ms of pure Python work"),
}

assert tuple(ALL) == WORKLOADS
