"""FileSystemCache: values survive a restart; damaged files are misses, never errors."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest
from dash_quart_caching import Cache, FileSystemCache
from quart import Quart

from .conftest import MakeCache


def fs_config(path: Path, **extra: object) -> dict[str, object]:
    return {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(path), **extra}


async def test_survives_a_new_cache_over_the_same_dir(
    tmp_path: Path, make_cache: MakeCache
) -> None:
    app, cache = make_cache(fs_config(tmp_path))
    calls = 0

    @cache.memoize(timeout=60)
    async def report(region: str) -> dict[str, str]:
        nonlocal calls
        calls += 1
        return {"region": region}

    async with app.app_context():
        await cache.set("greeting", "hello")
        assert await report("eu") == {"region": "eu"}

    restarted_app, restarted = make_cache(fs_config(tmp_path), Quart("restarted"))
    report_again = restarted.memoize(timeout=60)(report.uncached)
    async with restarted_app.app_context():
        assert await restarted.get("greeting") == "hello"
        assert await report_again("eu") == {"region": "eu"}
    assert calls == 1


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"DQC1",
        b"not a cache file at all",
        "truncate-payload",
        "garbage-payload",
        "long-key-length",
    ],
)
async def test_damaged_file_is_a_miss(
    tmp_path: Path, make_cache: MakeCache, damage: bytes | str, caplog: pytest.LogCaptureFixture
) -> None:
    app, cache = make_cache(fs_config(tmp_path))
    async with app.app_context():
        await cache.set("k", {"big": "x" * 1000})
        backend = cache.cache
        assert isinstance(backend, FileSystemCache)
        path = Path(backend._path("k"))
        data = path.read_bytes()
        if damage == "truncate-payload":
            path.write_bytes(data[: len(data) - 300])
        elif damage == "garbage-payload":
            path.write_bytes(data[:20] + b"\x00\xff" * 50)
        elif damage == "long-key-length":
            path.write_bytes(data[:12] + b"\xff\xff\x00\x00" + data[16:])
        else:
            assert isinstance(damage, bytes)
            path.write_bytes(damage)
        with caplog.at_level(logging.WARNING, logger="dash_quart_caching"):
            assert await cache.get("k") is None
            header_intact = damage in ("truncate-payload", "garbage-payload")
            assert await cache.has("k") is header_intact
        assert await cache.set("k", "repaired") is True
        assert await cache.get("k") == "repaired"


async def test_writes_are_atomic_and_leave_no_temporary_files(
    tmp_path: Path, make_cache: MakeCache
) -> None:
    app, cache = make_cache(fs_config(tmp_path))
    async with app.app_context():
        payloads = [{"i": i, "blob": str(i) * 20_000} for i in range(20)]

        async def reader() -> set[int]:
            seen: set[int] = set()
            for _ in range(40):
                value = await cache.get("shared")
                if value is not None:
                    assert value == payloads[value["i"]]
                    seen.add(value["i"])
                await asyncio.sleep(0)
            return seen

        writes = asyncio.gather(*(cache.set("shared", p) for p in payloads))
        seen, _ = await asyncio.gather(reader(), writes)
        assert seen <= set(range(20))
        assert not [name for name in os.listdir(tmp_path) if name.endswith(".__dqc_tmp")]


async def test_add_is_exclusive(tmp_path: Path, make_cache: MakeCache) -> None:
    app, cache = make_cache(fs_config(tmp_path))
    second_app, second = make_cache(fs_config(tmp_path), Quart("second"))
    async with app.app_context():
        results = await asyncio.gather(*(cache.add("once", i) for i in range(10)))
    async with second_app.app_context():
        assert await second.add("once", "other process") is False
        winner = await second.get("once")
    assert results.count(True) == 1
    assert results.index(True) == winner


async def test_threshold_prunes_expired_then_soonest(tmp_path: Path, make_cache: MakeCache) -> None:
    app, cache = make_cache(fs_config(tmp_path, CACHE_THRESHOLD=5))
    async with app.app_context():
        for i in range(12):
            await cache.set(f"k{i}", i, timeout=100 + i)
        files = [n for n in os.listdir(tmp_path) if not n.endswith(".__dqc_tmp")]
        assert len(files) <= 5
        assert await cache.get("k11") == 11
        assert await cache.get("k0") is None


async def test_foreign_file_is_ignored(tmp_path: Path, make_cache: MakeCache) -> None:
    (tmp_path / "README").write_text("not ours")
    app, cache = make_cache(fs_config(tmp_path))
    async with app.app_context():
        assert await cache.delete_prefix("") == 0
        await cache.set("a", 1)
        assert await cache.delete_prefix("") == 1


async def test_missing_cache_dir_is_a_clear_error(make_cache: MakeCache) -> None:
    with pytest.raises(ValueError, match=r"CACHE_DIR"):
        make_cache({"CACHE_TYPE": "FileSystemCache"})


def test_direct_construction(tmp_path: Path) -> None:
    backend = FileSystemCache(tmp_path / "nested" / "dir", threshold=0)
    assert (tmp_path / "nested" / "dir").is_dir()
    assert backend.shared is True
    assert isinstance(Cache(), Cache)
