"""Templated reports for the story evaluation: issues of one template on different subjects.

Machine-written and house-style reports (earnings snapshots, match reports) share most of
their words with every other issue of their template; what tells them apart is who and how
much. Two generators in the wording of such templates (an earnings snapshot as wire services
publish them for every listed company, a league's match report), seeded, with a second
outlet's copy of some issues. Labelling rule: an issue is an event (one company's quarter,
one match); the second outlet's copy of an issue is the same event. These texts are made
here, so they test what we thought of; the real-news sets (ECB+, FOMC) are reported beside.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

COMPANIES = [
    "Acme Corp.", "Zenith Inc.", "Borealis Holdings", "Cobalt Systems", "Delta Foods",
    "Evergreen Energy", "Falcon Bancorp", "Granite Homes", "Harbor Freight Lines",
    "Ionic Materials", "Juniper Health", "Keystone Insurance", "Lumen Optics", "Meridian Media",
    "Northwind Traders", "Orion Pharma", "Pinnacle Retail", "Quantum Devices", "Redwood Realty",
    "Summit Steel", "Titan Motors", "Umbra Software", "Vertex Labs", "Willow Apparel",
    "Xylem Water", "Yukon Mining", "Zephyr Airlines", "Atlas Logistics",
    "Beacon Semiconductor", "Crescent Hotels",
]
CITIES = ["DALLAS", "DENVER", "CHICAGO", "BOSTON", "ATLANTA", "SEATTLE", "HOUSTON", "MIAMI"]
TEAMS = [
    "Arsenal", "Chelsea", "Everton", "Fulham", "Brentford", "Burnley", "Liverpool", "Newcastle",
    "Southampton", "Tottenham", "Wolves", "Leicester", "Brighton", "Watford", "Bournemouth",
    "Norwich", "Sheffield United", "Crystal Palace", "Aston Villa", "West Ham",
]
PLAYERS = [
    "Harry Kane", "Mohamed Salah", "Bukayo Saka", "Ollie Watkins", "Jarrod Bowen", "Ivan Toney",
    "Dominic Solanke", "Callum Wilson", "Jamie Vardy", "Eberechi Eze", "Chris Wood",
    "Danny Ings", "Pedro Neto", "Kaoru Mitoma", "Raheem Sterling", "Dwight McNeil",
    "Bryan Mbeumo", "Elijah Adebayo", "Leandro Trossard", "Patson Daka",
]


@dataclass(frozen=True, slots=True)
class Issue:
    id: str
    source: str
    title: str
    text: str
    offset_ms: int  # from the set's start
    event: str


def earnings_snapshot(rng: random.Random, company: str, ticker: str, city: str) -> tuple[str, str]:
    """(title, text) of one company's quarterly earnings snapshot."""
    profit, eps = rng.uniform(5, 900), rng.uniform(0.1, 3)
    estimate, analysts = rng.uniform(0.1, 3), rng.randint(2, 12)
    revenue, expected = rng.uniform(50, 5000), rng.uniform(50, 5000)
    text = (
        f"{city} (AP) - {company} ({ticker}) on Wednesday reported third-quarter profit of "
        f"${profit:.1f} million.\n\n"
        f"The {city.title()}-based company said it had net income of ${eps:.2f} per share. "
        f"Earnings, adjusted for one-time gains and costs, were ${eps + 0.07:.2f} per share.\n\n"
        f"The results surpassed Wall Street expectations. The average estimate of {analysts} "
        f"analysts surveyed by Zacks Investment Research was for earnings of ${estimate:.2f} "
        f"per share.\n\n"
        f"The company posted revenue of ${revenue:,.1f} million in the period, also surpassing "
        f"Street forecasts. Analysts expected ${expected:,.1f} million.\n\n"
        f"{company} shares have increased {rng.randint(1, 40)}% since the beginning of the year."
    )
    return f"{company.rstrip('.')}: Q3 Earnings Snapshot", text


def match_report(rng: random.Random, home: str, away: str, scorers: tuple[str, str]
                 ) -> tuple[str, str]:
    """(title, text) of one league match."""
    goals_home, goals_away = rng.randint(2, 4), rng.randint(0, 1)
    first, second = rng.randint(5, 40), rng.randint(50, 88)
    text = (
        f"{home} beat {away} {goals_home}-{goals_away} at home on Saturday in the Premier "
        f"League.\n\n"
        f"{scorers[0]} opened the scoring in the {first}th minute with a low shot into the "
        f"bottom corner, and {scorers[1]} added a second after {second} minutes to settle the "
        f"match.\n\n"
        f"The win moves {home} up the table, while {away} remain without a victory in their "
        f"last three league games. The attendance was {rng.randint(18, 60)},"
        f"{rng.randint(100, 999)}.\n\n"
        f"{home} travel to face another Premier League side next weekend, while {away} host "
        f"their rivals in the FA Cup."
    )
    return f"{home} {goals_home}-{goals_away} {away}", text


def issues(seed: int = 11, copies: int = 5) -> list[Issue]:
    """30 earnings snapshots in an hour, 10 match reports on one afternoon, each from one
    source; the first ``copies`` of each kind also carried by a second outlet 10 minutes
    later under its own title (the same event)."""
    rng = random.Random(seed)
    found = []
    for i, company in enumerate(COMPANIES):
        ticker = "".join(w[0] for w in company.split()).upper() + "X"
        title, text = earnings_snapshot(rng, company, ticker, rng.choice(CITIES))
        found.append(Issue(f"earn-{i}", "apnews.com", title, text, i * 120_000, f"earn-{i}"))
        if i < copies:
            found.append(Issue(f"earn-{i}-copy", "sfgate.com", f"{company} beats estimates",
                               text, i * 120_000 + 600_000, f"earn-{i}"))
    for i in range(len(TEAMS) // 2):
        home, away = TEAMS[2 * i], TEAMS[2 * i + 1]
        title, text = match_report(rng, home, away, (PLAYERS[2 * i], PLAYERS[2 * i + 1]))
        at = 7_200_000 + i * 300_000
        found.append(Issue(f"match-{i}", "sportswire.com", title, text, at, f"match-{i}"))
        if i < copies:
            found.append(Issue(f"match-{i}-copy", "leaguedesk.com", f"Report: {home} v {away}",
                               text, at + 600_000, f"match-{i}"))
    return found
