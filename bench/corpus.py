"""A deterministic, labelled stream of news-like articles for evaluating the dedup core.

Every message carries ``cluster`` (messages of one cluster are the same article) and ``kind``:
``original``, a duplicate variant (``exact``, ``reflow``, ``html``, ``chrome``, ``copyedit``,
``para_drop``, ``truncate``) or a hard negative that must stay distinct (``same_story``: another
outlet's article on a story, sharing quotes and facts; ``shared_footer``: a short article
carrying the same long publisher footer as others; ``templated``: a report of the same
template as others with other figures (market close, rate decision, match result);
``shared_block``: a short article sharing one long paragraph verbatim with other, different
articles: a newsletter pitch, an agency's boilerplate, a long common quote). A templated
report re-sent with the same figures is a duplicate (``resend``). Some messages carry a
``source`` (publisher), most do not. The five seed articles come first (001 and 004 are one
cluster). Event times are random and independent of list order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.negatives import TEMPLATES, shared_block, templated_report

SEEDS_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "seeds"
DUPLICATE_KINDS = ("exact", "reflow", "html", "chrome", "copyedit", "para_drop", "truncate")
REPORT_DUPLICATE_KINDS = ("resend",)
NEGATIVE_KINDS = ("same_story", "shared_footer", "templated", "shared_block")
HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Message:
    """One labelled raw article as a producer would send it."""

    id: str
    event_time_ms: int
    body: str
    content_type: str | None
    cluster: str
    kind: str
    original_id: str  # the message this one was derived from (itself for originals)
    group: str = ""  # story or footer group, for hard-negative pairs
    source: str | None = None  # the envelope's publisher, when the producer sends one


FIRST = [
    "Amara",
    "Oliver",
    "Priya",
    "Tomasz",
    "Helen",
    "Kwame",
    "Sofia",
    "Daniel",
    "Ingrid",
    "Mateo",
    "Leila",
    "Farid",
    "Chloe",
    "Rui",
    "Naomi",
    "Viktor",
    "Aisha",
    "Callum",
    "Mei",
    "Jonas",
    "Fatima",
    "Rhys",
    "Elena",
    "Oskar",
    "Zainab",
    "Pavel",
    "Grace",
    "Idris",
]
LAST = [
    "Okafor",
    "Lindqvist",
    "Brennan",
    "Haddad",
    "Novak",
    "Fitzgerald",
    "Tanaka",
    "Morales",
    "Achterberg",
    "Kowalczyk",
    "Mensah",
    "Delacroix",
    "Varga",
    "Osei",
    "Whitfield",
    "Castellano",
    "Petrov",
    "Nakamura",
    "Ibrahim",
    "Sorensen",
    "Gallagher",
    "Moreau",
    "Chaudhry",
    "Hallström",
    "Abernathy",
    "Quintero",
    "Szabo",
    "Ferreira",
]
PLACES = [
    "Lisbon",
    "Glasgow",
    "Nairobi",
    "Gdansk",
    "Valparaiso",
    "Osaka",
    "Leeds",
    "Rotterdam",
    "Accra",
    "Tbilisi",
    "Halifax",
    "Bilbao",
    "Dundee",
    "Tallinn",
    "Mombasa",
    "Porto",
    "Cork",
    "Lyon",
    "Krakow",
    "Adelaide",
    "Manaus",
    "Bergen",
    "Turin",
    "Hull",
]
ORGS = [
    "the Environment Agency",
    "the regional health board",
    "the transport ministry",
    "the port authority",
    "the national grid operator",
    "the teachers' union",
    "the city council",
    "the coastal guard",
    "the central bank",
    "the energy regulator",
    "the housing association",
    "the university senate",
    "the fisheries commission",
    "the rail operator",
    "the water company",
    "the audit office",
]
ROLES = [
    "spokesperson",
    "chief executive",
    "deputy mayor",
    "senior analyst",
    "union leader",
    "head of policy",
    "chief inspector",
    "finance director",
    "professor of economics",
    "local councillor",
    "lead engineer",
    "opposition spokesperson",
    "campaign director",
    "board chair",
]
TOPICS = [
    "flood defences",
    "a rail strike",
    "hospital waiting lists",
    "a bridge closure",
    "school funding",
    "an energy price cap",
    "a port expansion",
    "a water contamination scare",
    "rent controls",
    "a wind farm project",
    "a fishing quota dispute",
    "a pension reform",
    "a data breach",
    "an airport runway",
    "a heatwave emergency",
    "a housing shortage",
    "a ferry cancellation",
    "a tax on sugar",
    "a landslide",
    "a steelworks closure",
]
NOUNS = [
    "residents",
    "families",
    "workers",
    "commuters",
    "patients",
    "pupils",
    "farmers",
    "drivers",
    "tenants",
    "businesses",
    "investors",
    "engineers",
    "nurses",
    "fishermen",
    "shopkeepers",
    "volunteers",
    "officials",
    "inspectors",
    "contractors",
    "campaigners",
    "passengers",
    "landlords",
    "auditors",
    "students",
]
VERBS = [
    "warned",
    "argued",
    "insisted",
    "confirmed",
    "admitted",
    "suggested",
    "claimed",
    "acknowledged",
    "estimated",
    "revealed",
    "stressed",
    "predicted",
    "noted",
    "cautioned",
    "conceded",
]
ADJS = [
    "unprecedented",
    "severe",
    "modest",
    "sharp",
    "gradual",
    "lengthy",
    "costly",
    "urgent",
    "temporary",
    "widespread",
    "significant",
    "controversial",
    "overdue",
    "limited",
    "substantial",
    "fragile",
    "unexpected",
]
THINGS = [
    "budget",
    "timetable",
    "review",
    "inquiry",
    "consultation",
    "proposal",
    "report",
    "investigation",
    "plan",
    "settlement",
    "decision",
    "forecast",
    "programme",
    "contract",
    "assessment",
    "audit",
    "appeal",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
]

SENTENCES = (
    "{person}, the {role} at {org}, {verb} that the {adj} {thing} would affect {n} {noun}.",
    "Officials in {place} {verb} on {day} that {topic} had left {n} {noun} without support.",
    "The {thing} was published after {n} {noun} wrote to {org} in {month}.",
    "Critics said the {adj} {thing} came too late for {noun} in {place}.",
    "According to figures seen by this newspaper, {pct} per cent of {noun} reported delays.",
    "{person} {verb} that {org} had not consulted {noun} before the {thing}.",
    "In {place}, {noun} gathered outside the offices of {org} on {day} evening.",
    "The cost of the {thing} has risen to {money}, up from {money2} last year.",
    "A {adj} {thing} into {topic} is expected to report by {month}.",
    "{person}, who has worked in {place} for {years} years, {verb} the situation was {adj}.",
    "Neither {org} nor the government responded to requests for comment on {day}.",
    "Some {noun} described the response as {adj}, while others praised {org}.",
    "The {role} of {org} is due to appear before a committee in {month}.",
    "More than {n} {noun} have signed a petition calling for a {adj} {thing}.",
    "It is the {ordinal} time in {years} years that {topic} has forced {org} to act.",
    "{person} said the {thing} would be reviewed again once {noun} had been heard.",
    "Data from {org} suggests the problem began in {place} before spreading.",
    "Local {noun} told reporters that the {adj} {thing} had caught them by surprise.",
    "The {thing} follows a {adj} winter in which {n} {noun} were affected.",
    "{org} {verb} that a {adj} {thing} was under way but gave no date.",
)

FOOTER_LINES = (
    "Why are you making commenting on {pub} only available to subscribers?",
    "We know there are thousands of {pub} readers who want to debate, argue and go back and "
    "forth in the comments section of our stories.",
    "Unfortunately these important debates are being spoiled by a vocal minority of trolls "
    "who are not really interested in the issues, try to derail the conversations, register "
    "under fake names, and post vile abuse.",
    "So that is why we have decided to make the ability to comment only available to our "
    "paying subscribers, who will have to pay if they want to join the debate.",
    "The conversation will go back to what it should be about: people who care passionately "
    "about the issues but disagree constructively on what we should do about them.",
    "Comments: our rules. We want our comments to be a lively and valuable part of our "
    "community, a place where readers can debate and engage with the most important local "
    "issues.",
    "The ability to comment on our stories is a privilege, not a right, and that privilege "
    "may be withdrawn if it is abused or misused. Please report any comments that break our "
    "rules.",
    "Support independent journalism at {pub}: subscribe today from just one pound a week and "
    "get unlimited access to every story, our daily newsletter and the digital edition.",
    "Sign up to our morning briefing to get the biggest stories of the day delivered to your "
    "inbox, with analysis from our correspondents and the best of our weekend reading.",
    "{pub} is a member of the independent press standards organisation and abides by its "
    "editors' code of practice; complaints should be sent to our readers' editor.",
)
PUBLICATIONS = ("The Northern Ledger", "Harbour Daily", "The Valley Courier", "Metro Gazette")


def _render(template: str, rng: random.Random, story: dict[str, str]) -> str:
    person = story["person"] if rng.random() < 0.3 else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    values = {
        "person": person,
        "role": rng.choice(ROLES),
        "org": story["org"] if rng.random() < 0.4 else rng.choice(ORGS),
        "verb": rng.choice(VERBS),
        "adj": rng.choice(ADJS),
        "thing": rng.choice(THINGS),
        "noun": rng.choice(NOUNS),
        "place": story["place"] if rng.random() < 0.4 else rng.choice(PLACES),
        "topic": story["topic"],
        "day": rng.choice(DAYS),
        "month": rng.choice(MONTHS),
        "n": f"{rng.randint(2, 9_000):,}",
        "pct": str(rng.randint(3, 97)),
        "money": f"£{rng.randint(2, 900)}m",
        "money2": f"£{rng.randint(2, 900)}m",
        "years": str(rng.randint(2, 40)),
        "ordinal": rng.choice(("second", "third", "fourth", "fifth")),
    }
    sentence = template.format(**values)
    return sentence[0].upper() + sentence[1:]


def _quote(rng: random.Random, story: dict[str, str]) -> str:
    words = " ".join(_render(rng.choice(SENTENCES), rng, story) for _ in range(2))
    return f"{story['person']} said: “{words}”"


def _story(rng: random.Random, number: int) -> dict[str, str]:
    story = {
        "person": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "org": rng.choice(ORGS),
        "place": rng.choice(PLACES),
        "topic": rng.choice(TOPICS),
        "id": f"s{number:03d}",
    }
    story["quote1"] = _quote(rng, story)
    story["quote2"] = _quote(rng, story)
    story["fact"] = _render(rng.choice(SENTENCES), rng, story)
    return story


def _article(rng: random.Random, story: dict[str, str], words: int) -> list[str]:
    """Paragraphs of about ``words`` words; shares the story's quotes and fact sentence."""
    shared = [story["fact"], *rng.sample([story["quote1"], story["quote2"]], rng.randint(1, 2))]
    paragraphs: list[str] = []
    count = 0
    while count < words:
        sentences = [_render(rng.choice(SENTENCES), rng, story) for _ in range(rng.randint(2, 5))]
        if shared and rng.random() < 0.35:
            sentences.insert(rng.randrange(len(sentences) + 1), shared.pop())
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    return paragraphs + shared


def _footer(rng: random.Random, publication: str) -> list[str]:
    lines = [line.format(pub=publication) for line in FOOTER_LINES]
    return [*lines[: rng.randint(6, len(lines))], f"© {publication} 2024. All rights reserved."]


def _reflow(paragraphs: list[str], rng: random.Random) -> str:
    out = []
    for paragraph in paragraphs:
        text = paragraph.replace("“", '"').replace("”", '"').replace("’", "'")
        words = text.split(" ")
        lines, line = [], ""
        for word in words:
            gap = "  " if rng.random() < 0.05 else " "
            if len(line) + len(word) > rng.randint(60, 80):
                lines.append(line)
                line = word
            else:
                line = f"{line}{gap}{word}" if line else word
        lines.append(line)
        out.append("\n".join(lines) + ("  " if rng.random() < 0.3 else ""))
    return "\r\n\r\n".join(out) + "\n"


def _html(paragraphs: list[str], title: str, publication: str) -> str:
    body = "".join(f"<p>{p.replace('&', '&amp;')}</p>\n" for p in paragraphs)
    return (
        f"<!doctype html><html><head><title>{title} | {publication}</title>"
        "<script>window.dataLayer=[];</script><style>p{margin:0}</style></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>{title}</h1>\n"
        f"{body}</article><footer>© {publication}</footer></body></html>"
    )


def _chrome(paragraphs: list[str], rng: random.Random, publication: str) -> list[str]:
    out = [f"By {rng.choice(FIRST)} {rng.choice(LAST)}, {rng.choice(ROLES).title()}"]
    out.append(f"Published {rng.randint(6, 23)}:{rng.randint(10, 59)} BST, {rng.choice(DAYS)}")
    for i, paragraph in enumerate(paragraphs):
        out.append(paragraph)
        if i in (1, 4):
            out.append(f"READ MORE: {rng.choice(TOPICS).capitalize()} in {rng.choice(PLACES)}")
    return out + _footer(rng, publication)


def _copyedit(paragraphs: list[str], rng: random.Random) -> list[str]:
    rate = rng.uniform(0.02, 0.05)
    out = []
    for paragraph in paragraphs:
        words: list[str] = []
        for word in paragraph.split():
            if rng.random() >= rate:
                words.append(word)
                continue
            op = rng.random()
            if op < 0.5:
                words.append(rng.choice(ADJS + NOUNS))
            elif op < 0.7:
                continue
            elif op < 0.85:
                words.extend((word, rng.choice(("also", "now", "still", "reportedly"))))
            else:
                words.append(word.rstrip(".,") + ";")  # punctuation-only edit
        out.append(" ".join(words))
    return out


def _truncate(paragraphs: list[str], rng: random.Random) -> list[str]:
    words = sum(len(p.split()) for p in paragraphs)
    keep = int(words * rng.uniform(0.85, 0.90))
    out: list[str] = []
    for paragraph in paragraphs:
        tokens = paragraph.split()
        if keep <= 0:
            break
        out.append(" ".join(tokens[:keep]))
        keep -= len(tokens)
    return [*out[:-1], out[-1] + " …", "Continue reading this article"]


def _variant(
    kind: str, paragraphs: list[str], rng: random.Random, title: str
) -> tuple[str, str | None]:
    """Body and content type of one duplicate variant of ``paragraphs``."""
    publication = rng.choice(PUBLICATIONS)
    if kind == "html":
        return _html(paragraphs, title, publication), "text/html"
    if kind == "reflow":
        return _reflow(paragraphs, rng), None
    if kind == "para_drop":
        drop = rng.randrange(1, len(paragraphs)) if len(paragraphs) > 1 else 0
        return "\n\n".join(p for i, p in enumerate(paragraphs) if i != drop), None
    edits = {
        "exact": lambda: paragraphs,
        "chrome": lambda: _chrome(paragraphs, rng, publication),
        "copyedit": lambda: _copyedit(paragraphs, rng),
        "truncate": lambda: _truncate(paragraphs, rng),
    }
    return "\n".join(edits[kind]()), None


def _seed_messages(rng: random.Random) -> list[Message]:
    clusters = {"000": "seed000", "001": "seed001", "002": "seed002", "003": "seed003"}
    clusters["004"] = "seed001"
    messages = []
    for path in sorted(SEEDS_DIR.glob("0*.txt")):
        number = path.name[:3]
        messages.append(
            Message(
                id=f"seed-{path.stem}",
                event_time_ms=rng.randrange(48 * HOUR_MS),
                body=path.read_text(encoding="utf-8"),
                content_type=None,
                cluster=clusters[number],
                kind="seed_dup" if number == "004" else "original",
                original_id="seed-" + sorted(SEEDS_DIR.glob("001_*.txt"))[0].stem
                if number == "004"
                else f"seed-{path.stem}",
                group="seed-story",
            )
        )
    return messages


def generate(seed: int = 20240818, stories: int = 60, per_story: int = 3) -> list[Message]:
    """The labelled stream: seeds, originals, duplicate variants and hard negatives.

    Templated reports and shared blocks come from their own random streams, so the rest of
    the stream is the same as before they were added; their number scales with ``stories``.
    """
    rng = random.Random(seed)
    messages = _seed_messages(rng)

    def when() -> int:
        return rng.randrange(48 * HOUR_MS)

    for number in range(stories):
        story = _story(rng, number)
        for article in range(per_story):
            paragraphs = _article(rng, story, rng.randint(300, 1500))
            title = f"{story['topic'].capitalize()} in {story['place']}: update {article + 1}"
            cluster = f"{story['id']}a{article}"
            original = Message(
                id=f"{cluster}-original",
                event_time_ms=when(),
                body="\n".join(paragraphs),
                content_type=None,
                cluster=cluster,
                kind="original" if article == 0 else "same_story",
                original_id=f"{cluster}-original",
                group=story["id"],
                source=PUBLICATIONS[number % len(PUBLICATIONS)] if number % 2 == 0 else None,
            )
            messages.append(original)
            for kind in rng.sample(DUPLICATE_KINDS, rng.randint(2, 4)):
                body, content_type = _variant(kind, paragraphs, rng, title)
                messages.append(
                    Message(
                        id=f"{cluster}-{kind}",
                        event_time_ms=when(),
                        body=body,
                        content_type=content_type,
                        cluster=cluster,
                        kind=kind,
                        original_id=original.id,
                        group=story["id"],
                    )
                )
    for number in range(48):
        publication = PUBLICATIONS[number % len(PUBLICATIONS)]
        story = _story(rng, 1000 + number)
        # short bodies too: the footer is then most of the text (the case of issue 12)
        paragraphs = _article(rng, story, rng.randint(30, 300))
        footer_rng = random.Random(publication)  # one footer per publication
        body = "\n".join(paragraphs + _footer(footer_rng, publication))
        cluster = f"f{number:03d}"
        messages.append(
            Message(
                id=f"{cluster}-shared_footer",
                event_time_ms=when(),
                body=body,
                content_type=None,
                cluster=cluster,
                kind="shared_footer",
                original_id=f"{cluster}-shared_footer",
                group=publication,
                source=publication if number % 4 == 0 else None,
            )
        )
    scale = stories / 60
    messages += _templated(random.Random(f"{seed}-templated"), round(12 * scale), when)
    messages += _shared_blocks(random.Random(f"{seed}-blocks"), round(48 * scale), when)
    return messages


def _templated(rng: random.Random, per_template: int, when: Callable[[], int]) -> list[Message]:
    """Reports of each template with their own figures; a third re-sent with the same ones."""
    messages = []
    for template in TEMPLATES:
        for number in range(per_template):
            paragraphs = templated_report(rng, template)
            cluster = f"r{template}{number:02d}"
            report = Message(
                id=f"{cluster}-templated", event_time_ms=when(), body="\n".join(paragraphs),
                content_type=None, cluster=cluster, kind="templated",
                original_id=f"{cluster}-templated", group=template,
                source="Valoria Wire" if number % 2 == 0 else None,
            )
            messages.append(report)
            if number % 3 == 0:
                body, content_type = _variant(
                    rng.choice(("reflow", "html", "exact")), paragraphs, rng, template
                )
                messages.append(Message(
                    id=f"{cluster}-resend", event_time_ms=when(), body=body,
                    content_type=content_type, cluster=cluster, kind="resend",
                    original_id=report.id, group=template, source=report.source,
                ))
    return messages


def _shared_blocks(rng: random.Random, count: int, when: Callable[[], int]) -> list[Message]:
    """Short, different articles (one to four sentences of their own) that carry one long
    block shared with others: most of each article is the block."""
    messages = []
    for number in range(count):
        story = _story(rng, 2000 + number)
        lead = (f"{story['person']}, {rng.choice(ROLES)} at {story['org']}, spoke in "
                f"{story['place']} on {rng.choice(DAYS)} about {story['topic']}.")
        own = [lead, *(_render(rng.choice(SENTENCES), rng, story)
                       for _ in range(rng.randint(0, 3)))]
        block = shared_block(number)
        # every third block sits between the article's own sentences
        paragraphs = ([own[0], *block, *own[1:]] if number % 3 == 2
                      else [" ".join(own), *block])
        cluster = f"b{number:03d}"
        messages.append(Message(
            id=f"{cluster}-shared_block", event_time_ms=when(), body="\n".join(paragraphs),
            content_type=None, cluster=cluster, kind="shared_block",
            original_id=f"{cluster}-shared_block", group=f"block{number % 3}",
            source=PUBLICATIONS[number % len(PUBLICATIONS)] if number % 2 == 0 else None,
        ))
    return messages


def arrival_order(messages: list[Message], seed: int) -> list[Message]:
    """The stream in a random arrival order, independent of event time."""
    shuffled = list(messages)
    random.Random(seed).shuffle(shuffled)
    return shuffled
