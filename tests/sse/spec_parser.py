"""An event-stream parser that follows the HTML spec's "Interpreting an event stream"."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class ParsedEvent:
    type: str = "message"
    data: str = ""
    last_event_id: str = ""
    retry: int | None = None
    comments: list[str] = field(default_factory=list)


def parse_stream(raw: bytes) -> list[ParsedEvent]:
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    events: list[ParsedEvent] = []
    data: list[str] = []
    event_type = ""
    last_event_id = ""
    retry: int | None = None
    comments: list[str] = []
    for line in lines:
        if line == "":
            if data:
                events.append(
                    ParsedEvent(event_type or "message", "\n".join(data), last_event_id, retry,
                                comments)
                )
            data, event_type, retry, comments = [], "", None, []
            continue
        if line.startswith(":"):
            comments.append(line[1:].removeprefix(" "))
            continue
        name, colon, value = line.partition(":")
        if colon:
            value = value.removeprefix(" ")
        if name == "event":
            event_type = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            if "\0" not in value:
                last_event_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                retry = int(value)
    return events
