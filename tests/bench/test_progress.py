from __future__ import annotations

import io

from bench.progress import Progress


def test_a_line_at_most_every_period_and_the_end_once() -> None:
    now = [0.0]
    out = io.StringIO()
    progress = Progress("wcxb_dev", 4, every_s=10.0, stream=out, clock=lambda: now[0])
    for at in (3.0, 10.5, 12.0, 21.0):
        now[0] = at
        progress.step()
    progress.finish()
    assert out.getvalue().splitlines() == [
        "wcxb_dev: 2/4 pages (50 %), 10 s",
        "wcxb_dev: 4/4 pages (100 %), 21 s",
    ]
    now[0] = 30.0
    Progress("again", 2, stream=out, clock=lambda: now[0]).finish()
    assert out.getvalue().splitlines()[-1] == "again: 0/2 pages (0 %), 0 s"


def test_an_empty_set_still_ends_with_a_line() -> None:
    out = io.StringIO()
    Progress("none", 0, unit="articles", stream=out, clock=lambda: 0.0).finish()
    assert out.getvalue() == "none: 0/0 articles, 0 s\n"
