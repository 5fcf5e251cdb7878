"""Hard negatives through matching: distinct articles that look alike must all be kept.

Each body goes through the real text path (``normalize_article``, the fingerprint form and
its tokens) and the dedup core (``fingerprint``, ``decide``, ``apply_decision``) with the
default configuration, as the worker runs them for an article without learned boilerplate
(the first articles of a publisher). A positive control in each case shows the same path
does merge a true copy.
"""

from __future__ import annotations

import orjson

from streams.core.config import CoreConfig
from streams.core.dedup.minhash import fingerprint
from streams.core.dedup.model import Fingerprint
from streams.core.pipeline import Deduplicator
from streams.core.records import RawMessage
from streams.core.text.article import normalize_article
from streams.core.text.normalize import fingerprint_text, fingerprint_tokens
from tests.core.dedup.helpers import CONFIG
from tests.harness import SAMPLES


def fingerprint_of(body: str) -> Fingerprint:
    article = normalize_article(body)
    fp_text = fingerprint_text(article.paragraphs)
    return fingerprint(fingerprint_tokens(fp_text, article.language), fp_text, CONFIG.minhash)


def run(bodies: dict[str, str]) -> dict[str, str | None]:
    """Decide the bodies in order (event time = position) through the whole core, so every
    rule sees what it needs (the verification profile: figures, shared paragraphs)."""
    dedup = Deduplicator(CoreConfig(), worker="t")
    out: dict[str, str | None] = {}
    for offset, (article_id, body) in enumerate(bodies.items()):
        value = orjson.dumps({"id": article_id, "body": body})
        outcome = dedup.process(RawMessage("articles.raw", 0, offset, None, value, offset),
                                now_ms=10_000)
        assert outcome.verdict != "deadletter", outcome.outputs[0].value
        out[article_id] = outcome.outputs[0].value.get("duplicate_of")
    return out


def verdicts(decided: dict[str, str | None]) -> dict[str, str | None]:
    return decided


def test_same_story_from_four_outlets_stays_four_articles() -> None:
    """Samples 000-003 report one resignation in four newsrooms' words; 004 is 001 again."""
    bodies = {path.stem[:3]: path.read_text("utf-8") for path in SAMPLES}
    assert verdicts(run(bodies)) == {"000": None, "001": None, "002": None, "003": None,
                                     "004": "001"}


FOOTER = (
    "The Harbour Gazette is an independent newspaper owned by its readers. Every week our "
    "reporters cover the council, the courts, the schools and the port so that you do not "
    "have to sit through the meetings yourself. We do not take money from developers, "
    "shipping lines or political parties, and we never will. If you value reporting that "
    "answers only to its readers, become a member for the price of a coffee a month: members "
    "get the weekly newsletter, early tickets to our public debates and a vote at the annual "
    "meeting where the editor reports on what we published and why. Write to the newsroom at "
    "the address on our contact page with tips, corrections and complaints; every letter is "
    "read by an editor and the corrections we make are listed on the corrections page."
)
SHORT_STORIES = {
    "ferry": (
        "The morning ferry to the islands was cancelled on Tuesday after a crew member fell "
        "ill. Passengers were offered seats on the afternoon crossing, and the operator said "
        "the timetable would return to normal by the weekend."
    ),
    "library": (
        "The central library will open on Sundays from next month, the council announced. "
        "Three new librarians have been hired, and the reading room on the second floor is "
        "being repainted while the children's corner gets new shelves."
    ),
    "market": (
        "Stallholders at the fish market have asked for a second cold store after a record "
        "summer. The harbour board will discuss the request at its next meeting, although "
        "its chair warned that the budget for this year is already spent."
    ),
}


def test_short_articles_sharing_a_long_footer_stay_distinct() -> None:
    bodies = {name: f"{text}\n\n{FOOTER}" for name, text in SHORT_STORIES.items()}
    assert verdicts(run(bodies)) == dict.fromkeys(SHORT_STORIES)


def test_a_copy_with_the_footer_added_matches_its_original() -> None:
    """Positive control: the footer case above is not solved by never matching anything."""
    original = SAMPLES[0].read_text("utf-8")
    bodies = {"original": original, "with_footer": f"{original}\n\n{FOOTER}"}
    assert verdicts(run(bodies)) == {"original": None, "with_footer": "original"}


QUOTE = (
    '"We were told the assessment was complete, that every shipment had been reviewed and '
    "that nothing we licensed could be used against civilians. None of that was true, and "
    "when I asked to see the reviews I was told they did not exist in writing. I could not "
    "keep signing my name under decisions I knew to be unlawful, so I resigned, and I would "
    'do it again tomorrow," the former official said.'
)


def test_articles_sharing_one_long_quote_stay_distinct() -> None:
    bodies = {
        "wire": "A senior official resigned on Monday over arms export licences.\n\n" + QUOTE
        + "\n\nThe department said it did not comment on individual staff matters and that "
          "its licensing process was among the most rigorous in the world.",
        "analysis": "Why does one resignation matter? Because it breaks a long silence inside "
        "the licensing system, our defence correspondent writes.\n\n" + QUOTE + "\n\nFor "
        "years campaigners have argued that the criteria are applied loosely; ministers have "
        "answered that every licence is checked against the law. Parliament's committee on "
        "arms exports will now ask for the written reviews the official says were never made, "
        "and opposition members have called for the export of components to be paused until "
        "the committee has reported.",
    }
    assert verdicts(run(bodies)) == {"wire": None, "analysis": None}


REPORT = (
    "Shares in Harbourport closed at {close} pence on {day}, {move} on the day, after "
    "trading of {volume} million shares. The FTSE 250 index ended at {index} points. "
    "Analysts at Northgate said the port operator's container volumes for the quarter, due "
    "next week, would show whether the recovery in trade seen since the spring had held. "
    "The company did not comment on the share price movement. Brent crude traded at {oil} "
    "dollars a barrel and the pound bought {fx} dollars at the close of trading in London."
)


def test_templated_reports_with_different_figures_stay_distinct() -> None:
    bodies = {
        "monday": REPORT.format(close="412.5", day="Monday", move="up 1.2%", volume="3.4",
                                index="20,114", oil="78.40", fx="1.2710"),
        "tuesday": REPORT.format(close="398.0", day="Tuesday", move="down 3.5%", volume="5.9",
                                 index="19,870", oil="80.15", fx="1.2655"),
    }
    assert verdicts(run(bodies)) == {"monday": None, "tuesday": None}


def test_a_resent_report_with_the_same_figures_is_a_duplicate() -> None:
    """Positive control for the templated reports: the same figures are the same report."""
    report = REPORT.format(close="412.5", day="Monday", move="up 1.2%", volume="3.4",
                           index="20,114", oil="78.40", fx="1.2710")
    assert verdicts(run({"first": report, "resent": report})) == {"first": None,
                                                                  "resent": "first"}
