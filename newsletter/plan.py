"""What a build writes, as units: a day's page, a day's email, a feed, the index…

Each unit carries everything its files depend on besides the configuration and
the templates (its "material"), so a build can tell which units a previous build
already wrote; and how to render it, reading the papers it needs when it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial

from .cache import digest
from .config import Config
from .editions import Editions, WeekOutline
from .feeds import FEEDS, render_feed, render_feed_stylesheet
from .inline import InlineFunction
from .mail import Mail, compose, day_mail, shortened_note, week_mail
from .model import Outline
from .site import day_page, index_page, render_style, week_page

Rendered = tuple[dict[str, bytes], tuple[str, ...]]  # files, notes for the user


@dataclass(frozen=True)
class Unit:
    name: str
    material: tuple[object, ...]  # everything the files depend on besides config and templates
    render: Callable[[], Rendered]
    mail: bool = False  # renders an email, so needs the inliner
    group: str = ""  # units of one group render in one process, one after another


@dataclass
class Renderer:
    """Renders one unit at a time; gets the email inliner only if some email is rendered."""

    editions: Editions
    config: Config
    learn_inliner: Callable[[], InlineFunction]

    @cached_property
    def inline(self) -> InlineFunction:
        return self.learn_inliner()

    def feed(self, name: str) -> Rendered:
        return render_feed(name, self.editions, self.config), ()

    def index(self) -> Rendered:
        page = index_page(self.editions, self.config).encode()
        return {"index.html": page, **render_style(), **render_feed_stylesheet(self.config)}, ()

    def day_page(self, index: int, week: WeekOutline) -> Rendered:
        page = day_page(self.editions, index, week, self.config)
        return {f"days/{self.editions.days[index].key}.html": page.encode()}, ()

    def week_page(self, week: WeekOutline) -> Rendered:
        page = week_page(self.editions.week(week), self.config)
        return {f"weeks/{week.key}.html": page.encode()}, ()

    def _mail(self, mail: Mail, full: int) -> Rendered:
        shown, files = compose(mail, self.config, self.inline, full)
        return files, (shortened_note(mail, shown, full),) if shown.shortened else ()

    def day_mail(self, outline: Outline, latest: bool) -> Rendered:
        day = self.editions.day(outline)
        files, notes = self._mail(day_mail(day, self.config), self.config.email_full_papers)
        if latest:
            files["email/latest.eml"] = files[f"email/{day.key}.eml"]
        return files, notes

    def week_mail(self, week: WeekOutline) -> Rendered:
        return self._mail(week_mail(self.editions.week(week), self.config), self.config.week_top)


def plan(editions: Editions, renderer: Renderer) -> list[Unit]:
    """Every unit of output; those of one week are together, as they read the same days."""
    days = editions.days
    day_print = {d.key: editions.archive.fingerprint(d) for d in days}
    week_print = {w.key: digest(*(day_print[d.key] for d in w.days)) for w in editions.weeks}
    window = editions.window(renderer.config.feed_days)
    start = window[-1].date
    finished = tuple(week_print[w.key] for w in editions.complete_weeks_since(start))
    listing = tuple((d.key, len(d.mentions)) for d in days)
    feeds = {"papers": (window, editions.entries_since(start)), "daily": window, "weekly": finished}
    units = [Unit(f"feed {name}", (feeds[name],), partial(renderer.feed, name)) for name in FEEDS]
    units.append(
        Unit("index", (listing, day_print[days[-1].key], tuple(week_print)), renderer.index)
    )
    index = {day.date: number for number, day in enumerate(days)}
    for week in editions.weeks:
        for day in week.days:
            units += _day_units(renderer, index[day.date], week, day_print[day.key])
        units += [
            Unit(
                f"week {week.key}",
                (week_print[week.key],),
                partial(renderer.week_page, week),
                group=week.key,
            ),
            Unit(
                f"email {week.key}",
                (week_print[week.key],),
                partial(renderer.week_mail, week),
                mail=True,
                group=week.key,
            ),
        ]
    return units


def _day_units(renderer: Renderer, index: int, week: WeekOutline, printed: str) -> list[Unit]:
    days = renderer.editions.days
    day = days[index]
    neighbours = tuple(days[i].key for i in (index - 1, index + 1) if 0 <= i < len(days))
    latest = index == len(days) - 1
    return [
        Unit(
            f"day {day.key}",
            (printed, index > 0, neighbours, week.key),
            partial(renderer.day_page, index, week),
            group=week.key,
        ),
        Unit(
            f"email {day.key}",
            (printed, latest),
            partial(renderer.day_mail, day, latest),
            mail=True,
            group=week.key,
        ),
    ]
