from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "dash_quart", "extensions", "tests", "examples", "bench"],
        ["mypy"],
    ],
    ids=["ruff", "mypy-strict"],
)
def test_code_style(command: list[str], subprocess_env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=ROOT, env=subprocess_env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
