from __future__ import annotations

import re

from bench import summary
from tests.conftest import ROOT

README = ROOT / "README.md"


def test_benchmark_summary_matches_the_latest_results() -> None:
    text = README.read_text()

    current = summary.section(text)

    assert current == "\n" + summary.render(), (
        "The benchmark summary in README.md is out of date: run `make readme`."
    )


def test_replace_section_keeps_the_rest_of_the_file() -> None:
    text = f"# Title\n\nbefore\n{summary.START}\nold\n{summary.END}\nafter\n"

    updated = summary.replace_section(text, "new\n")

    assert updated == f"# Title\n\nbefore\n{summary.START}\nnew\n{summary.END}\nafter\n"
    assert summary.section(updated) == "\nnew\n"


def test_quickstart_names_exactly_the_two_setup_commands() -> None:
    found = re.search(r"^## Quickstart\n(.*?)(?=^## |\Z)", README.read_text(), re.M | re.S)
    assert found is not None, "README.md has no Quickstart section"

    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", found.group(1), re.M | re.S)
    commands = [line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()]

    assert [command for command in commands if command] == ["make demo", "make test"]
