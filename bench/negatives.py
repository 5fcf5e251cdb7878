"""Hard negatives of the labelled stream that real news is full of: templated reports and
shared blocks (see :mod:`bench.corpus`).

* Templated reports: one template, other figures. A market close (dense figures), a central
  bank's rate decision (a long statement whose figures are a few words of it: the case the
  figures rule exists for) and a match report (short). Each report is its own article; a
  report re-sent with the same figures is a duplicate.
* Shared blocks: short, different articles that carry one long paragraph verbatim: a
  newsletter pitch the chrome rules do not know, an agency's "About us" boilerplate, or the
  same long quote of a minister's statement.
"""

from __future__ import annotations

import random
from collections.abc import Callable

MARKET = (
    "The FTSE 100 closed {dir} {pct}% at {level} points on {day}, with {up} risers and "
    "{down} fallers across the index.",
    "{company} led the board, {move} {pence}p at {price}p, after {reason}.",
    "Sterling {fxdir} {fx}% against the dollar to ${rate}, while Brent crude traded at "
    "${oil} a barrel.",
    "The mid-cap FTSE 250 ended {dir2} {pct2}% at {level2}, and AIM closed at {aim}.",
)
COMPANIES = ("Harlow Mining", "Quayside Foods", "Brennan Telecom", "Northgate Bank",
             "Vantor Energy", "Ellison Retail", "Orbis Pharma", "Castlegate Homes")
REASONS = ("a broker upgrade", "first-half results", "a takeover approach",
           "a trading update", "a dividend increase", "new contract wins")

RATE = (
    "The Monetary Policy Committee of the Bank of Valoria sets monetary policy to meet the "
    "{target}% inflation target, and in a way that helps to sustain growth and employment.",
    "At its meeting ending on {day} {date} {month}, the Committee voted by a majority of "
    "{votes_for}-{votes_against} to {action} Bank Rate at {rate}%.",
    "Twelve-month consumer price inflation fell to {cpi}% in {prev_month}, and the labour "
    "market has continued to loosen, although it remains tight by historical standards.",
    "The Committee continues to monitor closely the risks of inflation persistence and will "
    "decide the appropriate degree of monetary policy restrictiveness at each meeting.",
    "Monetary policy will need to continue to remain restrictive for sufficiently long to "
    "return inflation to the target sustainably in the medium term, in line with the "
    "Committee's remit.",
    "The Committee's updated projections will be published alongside the minutes of this "
    "meeting, together with the votes of each of its nine members.",
)
MATCH = (
    "{home} {hs}-{as_} {away}: {scorer} scored in the {minute}th minute as {home} "
    "{verb} at {ground} on {day}.",
    "{home} had {shots} shots to {away}'s {shots2}, and the attendance was {crowd}.",
    "The result leaves {home} {pos}th in the table, {gap} points behind the leaders.",
)
TEAMS = ("Harbour Rovers", "Valley Athletic", "Northgate United", "Quayside Town",
         "Castlegate City", "Ellison Park", "Brennan Wanderers", "Orbis FC")
GROUNDS = ("the Quay", "Mill Lane", "the Dell", "Victoria Park", "the Meadow")
MONTHS = ("January", "March", "May", "June", "August", "September", "November")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")

SHARED_BLOCKS = (
    (  # a newsletter pitch no chrome rule matches (no "sign up", "subscribe", "newsletter")
        "Every weekday at six, the Morning Dispatch brings you the five stories that matter "
        "before breakfast: the politics, the money, the weather on your commute and one long "
        "read for the train, chosen by our editors in Glasgow and delivered straight to your "
        "phone without charge.",
        "Tap the envelope icon at the top of this page to get tomorrow's edition, and the "
        "weekend edition with our best reporting of the week, our crossword and the letters "
        "our readers sent us, every Saturday morning before eight.",
    ),
    (  # an agency's boilerplate, as press releases carry it
        "About Norvale Analytics: Norvale Analytics is an independent research and advisory "
        "firm founded in Leeds, with offices in Porto, Accra and Halifax. Its analysts advise "
        "councils, port authorities and energy regulators on infrastructure, transport and "
        "public finance, and its quarterly indicators are used by newsrooms across the "
        "country.",
        "Norvale Analytics is not affiliated with any political party or government "
        "department. Media enquiries: the press office of Norvale Analytics, Wellington "
        "Place, Leeds, on weekdays between nine and five.",
    ),
    (  # a long quote several different reports carry verbatim
        "In a statement, the transport minister said: \u201cWe have listened to passengers, "
        "to the unions and to the operators, and we are clear that the network cannot go on "
        "like this. Every region will see its timetable reviewed, every station its "
        "accessibility checked, and every contract its penalties enforced.",
        "This is not a promise for the next election; it is a plan for the next decade, and we "
        "will publish our progress against it every single quarter, line by line, so that "
        "passengers can hold us to it.\u201d",
    ),
)


def _market(rng: random.Random) -> list[str]:
    values = {
        "dir": rng.choice(("up", "down")), "pct": f"{rng.uniform(0.1, 1.9):.2f}",
        "level": f"{rng.uniform(7100, 8300):,.2f}", "day": rng.choice(DAYS),
        "up": rng.randint(20, 80), "down": rng.randint(15, 80),
        "company": rng.choice(COMPANIES), "move": rng.choice(("up", "down")),
        "pence": rng.randint(3, 90), "price": f"{rng.randint(120, 4200):,}",
        "reason": rng.choice(REASONS), "fxdir": rng.choice(("rose", "fell")),
        "fx": f"{rng.uniform(0.05, 0.9):.2f}", "rate": f"{rng.uniform(1.18, 1.32):.4f}",
        "oil": f"{rng.uniform(71, 92):.2f}", "dir2": rng.choice(("up", "down")),
        "pct2": f"{rng.uniform(0.1, 1.6):.2f}", "level2": f"{rng.uniform(18500, 21500):,.2f}",
        "aim": f"{rng.uniform(690, 820):.2f}",
    }
    return [line.format(**values) for line in MARKET]


def _rate(rng: random.Random) -> list[str]:
    values = {
        "target": 2, "day": rng.choice(DAYS), "date": rng.randint(1, 28),
        "month": rng.choice(MONTHS), "votes_for": rng.randint(5, 9),
        "votes_against": rng.randint(0, 4), "action": rng.choice(("maintain", "reduce")),
        "rate": f"{rng.choice((4, 4.25, 4.5, 4.75, 5, 5.25))}",
        "cpi": f"{rng.uniform(1.7, 4.6):.1f}",
        "prev_month": rng.choice(MONTHS),
    }
    return [line.format(**values) for line in RATE]


def _match(rng: random.Random) -> list[str]:
    home, away = rng.sample(TEAMS, 2)
    values = {
        "home": home, "away": away, "hs": rng.randint(0, 4), "as_": rng.randint(0, 4),
        "scorer": rng.choice(("Okafor", "Lindqvist", "Novak", "Tanaka", "Mensah", "Varga")),
        "minute": rng.randint(2, 89), "verb": rng.choice(("won", "drew", "lost")),
        "ground": rng.choice(GROUNDS), "day": rng.choice(DAYS), "shots": rng.randint(4, 22),
        "shots2": rng.randint(2, 20), "crowd": f"{rng.randint(3000, 41000):,}",
        "pos": rng.randint(4, 19), "gap": rng.randint(1, 30),
    }
    return [line.format(**values) for line in MATCH]


TEMPLATES: dict[str, Callable[[random.Random], list[str]]] = {
    "market": _market, "rate": _rate, "match": _match,
}


def templated_report(rng: random.Random, template: str) -> list[str]:
    """Paragraphs of one report of ``template`` with fresh figures."""
    return TEMPLATES[template](rng)


def shared_block(number: int) -> list[str]:
    """The paragraphs of shared block ``number`` (three blocks in turn)."""
    return list(SHARED_BLOCKS[number % len(SHARED_BLOCKS)])
