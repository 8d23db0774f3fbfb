"""What a build writes, declared where it is owned (pelican's generators are the model).

An output is its paths, the function that renders them, and the values that
function reads: the days it shows, its neighbours' dates, the week it belongs
to. The function gets those values and a context (the settings, the templates,
the email inliner) and nothing else, so the build can hash exactly what an
output depends on: the values, with the package's code, the templates and the
settings. An output whose hash is what the last build recorded, and whose files
are untouched, is not rendered again; there is no other list of what depends on
what to keep in step.

Adding a page, feed or email is one function in the module that owns it,
decorated with :func:`produces`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Config
    from .editions import Editions
    from .inline import Inliner, Stamped
    from .render import Theme

Files = dict[str, bytes]
Rendered = tuple[Files, tuple[str, ...]]  # the files, and notes for the user


@dataclass(frozen=True)
class Context:
    """What every render function gets besides its values; part of every output's key."""

    config: Config
    theme: Theme
    inliner: Inliner | None = None  # learned when some email is rendered
    inline: Callable[[str], str] | None = None  # premailer on each whole email instead

    @cached_property
    def stamped(self) -> Stamped:
        """The email templates with premailer's styles stamped on them."""
        from .inline import Stamped

        assert self.inliner is not None, "emails are rendered after the inliner is learned"
        return Stamped(self.theme, self.inliner)


@dataclass(frozen=True)
class Output:
    paths: tuple[str, ...]
    render: Callable[..., Rendered]  # render(context, *values)
    values: tuple[object, ...]
    group: str = ""  # outputs of one group render in one process: they read the same days
    email: bool = False  # needs the inliner

    @property
    def name(self) -> str:
        return self.paths[0]


Producer = Callable[["Editions", "Config"], Iterable[Output]]
PRODUCERS: list[Producer] = []


def produces(producer: Producer) -> Producer:
    """Register a function that declares outputs; every build asks each of them."""
    PRODUCERS.append(producer)
    return producer
