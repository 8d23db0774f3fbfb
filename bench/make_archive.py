"""Make a synthetic archive from the real sample: ``python bench/make_archive.py DAYS OUT``.

Day i is a copy of one real day (taken in turn), dated 2023-01-01 + i, with
every arXiv id rewritten to a unique one so papers do not collapse into
each other. 360 days is about the size of the real archive (1x).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "tests" / "fixtures" / "seeds").iterdir()) + sorted(
    (ROOT / "tests" / "fixtures" / "corpus").iterdir()
)
HEADER = re.compile(r"^## Daily Papers \(\d{4}-\d{2}-\d{2}\)", re.MULTILINE)
ARXIV_ID = re.compile(r"(?<=/)\d{4}\.\d{4,5}(?=[).v/])")
START = dt.date(2023, 1, 1)
WRITTEN = dt.datetime(2020, 1, 1, tzinfo=dt.UTC).timestamp()


def rewrite_ids(text: str, day: int) -> str:
    """Every arXiv id of one day mapped to a fresh one, the same way wherever it occurs."""
    fresh: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        number = fresh.setdefault(match.group(0), f"{len(fresh):03d}")
        return f"{2300 + day // 100}.{day % 100:02d}{number}"

    return ARXIV_ID.sub(replace, text)


def make(days: int, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    texts = [path.read_text(encoding="utf-8") for path in SOURCES]
    papers = 0
    for index in range(days):
        date = START + dt.timedelta(days=index)
        text = HEADER.sub(f"## Daily Papers ({date.isoformat()})", texts[index % len(texts)])
        text = rewrite_ids(text, index)
        papers += text.count("\n### ")
        path = out / f"{date.isoformat()}.md"
        path.write_text(text, encoding="utf-8")
        # Written long before the build, a minute apart, as a real archive's files are (its
        # days run into the future at 10x: their own dates would be file times to come).
        written = WRITTEN + 60 * index
        os.utime(path, (written, written))
    return papers


if __name__ == "__main__":
    count, target = int(sys.argv[1]), Path(sys.argv[2])
    print(f"{count} days, {make(count, target)} papers in {target}")
