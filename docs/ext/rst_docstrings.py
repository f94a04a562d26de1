"""Griffe extension: render the reST bits of dash_quart's docstrings as Markdown.

The docstrings follow the Pallets style (``:class:`X```, ``.. versionadded::``, literal
blocks introduced by ``::``). mkdocstrings renders docstrings as Markdown, so those
constructs are rewritten here before the docstrings are parsed.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from griffe import Extension, Object

_ROLE = re.compile(r":(?:py:)?(?:mod|class|func|meth|attr|exc|data|obj):`~?([^`]+)`")
_DIRECTIVE = re.compile(r"^(\s*)\.\. (versionadded|versionchanged|deprecated):: *(.*)$")
_DIRECTIVE_TEXT = {
    "versionadded": "Added in version {}.",
    "versionchanged": "Changed in version {}.",
    "deprecated": "Deprecated since version {}.",
}


def _literal_blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.rstrip().endswith("::"):
            out.append(line)
            i += 1
            continue
        text = line.rstrip()[:-2].rstrip()
        if text:
            out.append(text + ":")
        indent = len(line) - len(line.lstrip())
        j = i + 1
        block: list[str] = []
        while j < len(lines) and (
            not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent
        ):
            block.append(lines[j])
            j += 1
        while block and not block[-1].strip():
            block.pop()
            j -= 1
        code = textwrap.dedent("\n".join(block)).strip("\n")
        out.extend(["", "```python", *code.splitlines(), "```"])
        i = j
    return out


def rst_to_markdown(text: str) -> str:
    """Rewrite roles, version directives and ``::`` literal blocks as Markdown."""
    text = _ROLE.sub(r"`\1`", text)
    lines = []
    for line in text.splitlines():
        match = _DIRECTIVE.match(line)
        if match:
            indent, name, version = match.groups()
            line = f"{indent}*{_DIRECTIVE_TEXT[name].format(version.strip())}*"
        lines.append(line)
    return "\n".join(_literal_blocks(lines))


class RstDocstrings(Extension):
    """Apply :func:`rst_to_markdown` to every docstring that griffe loads."""

    def on_object(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
