"""The one user-facing error: a list of problems, each tied to a file and a line.

It derives from ``click.ClickException`` so the CLI needs no ``try``: click prints the
message and exits 1. Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class DeckgenError(click.ClickException):
    """Bad input or an environment problem the user can fix; never a bug."""

    exit_code = 1

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("deckgen", None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = sorted(set(problems), key=_sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))

    def show(self, file=None) -> None:  # click prefixes "Error: "; one line per problem reads better
        click.echo(self.format_message(), err=True, file=file)


def _sort_key(p: Problem):
    return (p.path, p.line or 0, p.message)


def display_path(path: Path, base: Path | None = None) -> str:
    """A path as the user should see it: relative to the working directory when inside it."""
    path = Path(path)
    for root in (base, Path.cwd()):
        if root is None:
            continue
        try:
            return str(path.resolve().relative_to(Path(root).resolve()))
        except ValueError:
            continue
    return str(path)
