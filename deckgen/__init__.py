"""deckgen: turn a folder of production-incident scenarios into Anki decks.

The stages run one way: :mod:`deckgen.loader` (files to plain data with line numbers),
:mod:`deckgen.model` (validation into frozen dataclasses), :mod:`deckgen.render`
(Markdown, code, cloze markup, sanitising), :mod:`deckgen.notes` (note types, IDs,
GUIDs, tags) and :mod:`deckgen.package` (deterministic .apkg bytes). :mod:`deckgen.build`
runs them; :mod:`deckgen.cli` is a thin layer over it.
"""

from deckgen._version import __version__
from deckgen.builder import BuildOptions, BuildResult, build, load_project
from deckgen.errors import DeckgenError, Problem

__all__ = [
    "__version__",
    "BuildOptions",
    "BuildResult",
    "DeckgenError",
    "Problem",
    "build",
    "load_project",
]
