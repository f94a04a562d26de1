from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dash_quart.sse import ServerSentEvent, to_event
from tests.sse.spec_parser import parse_stream

single_line = st.text().filter(lambda s: "\r" not in s and "\n" not in s)
event_names = single_line.filter(lambda s: s != "")
ids = single_line.filter(lambda s: "\0" not in s)


@given(
    data=st.text(min_size=1),
    event=st.none() | event_names,
    event_id=st.none() | ids,
    retry=st.none() | st.integers(min_value=0, max_value=10**9),
)
def test_encode_then_parse_round_trips(
    data: str, event: str | None, event_id: str | None, retry: int | None
) -> None:
    encoded = ServerSentEvent(data, event=event, id=event_id, retry=retry).encode()
    [parsed] = parse_stream(encoded)
    expected = data.replace("\r\n", "\n").replace("\r", "\n")
    assert parsed.data == expected
    assert parsed.type == (event or "message")
    assert parsed.last_event_id == (event_id or "")
    assert parsed.retry == retry


@given(st.lists(st.text(min_size=1), min_size=1, max_size=5))
def test_several_events_in_one_stream(datas: list[str]) -> None:
    stream = b"".join(ServerSentEvent(d, id=str(i)).encode() for i, d in enumerate(datas))
    parsed = parse_stream(stream)
    assert [p.data for p in parsed] == [d.replace("\r\n", "\n").replace("\r", "\n") for d in datas]
    assert [p.last_event_id for p in parsed] == [str(i) for i in range(len(datas))]


@pytest.mark.parametrize("ending", ["\n", "\r", "\r\n"])
def test_multiline_data_becomes_several_data_lines(ending: str) -> None:
    encoded = ServerSentEvent(f"one{ending}two{ending}three").encode()
    assert encoded == b"data: one\ndata: two\ndata: three\n\n"


def test_dict_and_list_data_are_json() -> None:
    [parsed] = parse_stream(ServerSentEvent({"price": 1.5, "tags": ["a"]}).encode())
    assert json.loads(parsed.data) == {"price": 1.5, "tags": ["a"]}
    [parsed] = parse_stream(ServerSentEvent([1, 2]).encode())
    assert json.loads(parsed.data) == [1, 2]


@pytest.mark.parametrize("field", ["event", "id"])
@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\r\nb"])
def test_line_breaks_are_rejected_in_event_and_id(field: str, value: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        ServerSentEvent("x", **{field: value})


def test_nul_is_rejected_in_id() -> None:
    with pytest.raises(ValueError, match="NUL"):
        ServerSentEvent("x", id="a\0b")


@pytest.mark.parametrize("retry", ["1000", 1.5, True])
def test_retry_must_be_an_int(retry: object) -> None:
    with pytest.raises(TypeError, match="retry must be an int"):
        ServerSentEvent("x", retry=retry)  # type: ignore[arg-type]


def test_comment_only_event_is_not_dispatched() -> None:
    encoded = ServerSentEvent(comment="keepalive").encode()
    assert encoded == b": keepalive\n\n"
    assert parse_stream(encoded) == []


def test_to_event_accepts_events_dicts_and_strings() -> None:
    event = ServerSentEvent("x")
    assert to_event(event) is event
    assert to_event({"data": "y", "event": "e"}).encode() == b"event: e\ndata: y\n\n"
    assert to_event("z").encode() == b"data: z\n\n"
    with pytest.raises(TypeError, match="ServerSentEvent, dict or str"):
        to_event(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "line"), [(True, "true"), (None, None), (1.5, "1.5"),
                                             ("text", "text"), ({"a": None}, '{"a":null}')])
def test_scalars_are_json(value: object, line: str | None) -> None:
    encoded = ServerSentEvent(value).encode()
    expected = b"\n\n" if line is None else f"data: {line}\n\n".encode()
    assert encoded == expected
