"""CHANGELOG.md: one ``## <version> (<date>)`` section per release, newest first.

The section for the deck's current version is also shown on the deck's overview screen,
so a user who imports an update sees what changed.
"""

from __future__ import annotations

import re

HEADER = "# Changelog\n\nWhat changed in each release of the deck. `deckgen release` writes a section per version.\n"


def section(text: str, version: str) -> str:
    """The body of the section for ``version`` (without its heading), or ''."""
    match = re.search(rf"^## {re.escape(version)}\b[^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match.group(1).strip() if match else ""


def with_section(text: str, version: str, released: str, body: str) -> str:
    """``text`` with a section for ``version`` added at the top (existing sections kept)."""
    if section(text, version) or re.search(rf"^## {re.escape(version)}\b", text, re.M):
        return text
    block = f"## {version} ({released})\n\n{body.strip()}\n\n"
    if not text.strip():
        return HEADER + "\n" + block
    match = re.search(r"^## ", text, re.M)
    if match:
        return text[: match.start()] + block + text[match.start() :]
    return text.rstrip() + "\n\n" + block
