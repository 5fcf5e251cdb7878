#!/usr/bin/env python3
# ruff: noqa: PLR0912, PLR0915, PLR1714 - a one-off converter, kept as written
"""Convert the ECB+ corpus (token-level XML) to ``ecbplus.jsonl`` for bench/eval_stories.py.

Source: github.com/cltl/ECB-parser at eba7c4d1caa758816bcee3139bdd4e6688dee00d, folder
``ECB+/<topic>/<topic>_<n>ecb.xml`` and ``..._<n>ecbplus.xml`` (982 English documents,
43 topics, two events per topic: the ECB half and the ECB+ half). The texts belong to their
outlets; the ECB+ annotation is CC BY 3.0 (Cybulska & Vossen, LREC 2014). The output is
not shipped (the texts are not ours to share); this converter is, so anyone with the
corpus can rebuild the local copy that ``make eval REALNEWS_DIR=...`` reads.

    python3 convert_ecbplus.py [--git-dir DIR] [--commit SHA] [--src DIR] [--out FILE]

Reads the XML straight from the bare git mirror (``git archive``) unless ``--src`` points at
an extracted ``ECB+`` folder. One JSON object a line, sorted by topic and document number:

* ``id``: the document name without ``.xml`` (``1_10ecb``, ``1_10ecbplus``);
* ``title``: the headline (see :func:`split_head`), else null;
* ``text``: the other sentences, one a line, detokenized (:func:`detokenize`); an ECB+
  document's first line, its URL, is dropped (kept in ``url_raw``, which no reader uses);
* ``group``: ``<topic>/ecb`` or ``<topic>/ecbplus`` (the event); ``topic``: ``<topic>``.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

GIT_DIR = "/work/.mirror/cltl+ECB-parser/repo/.git"
COMMIT = "eba7c4d1caa758816bcee3139bdd4e6688dee00d"
NAME = re.compile(r"^(\d+)_(\d+)(ecb|ecbplus)\.xml$")

# -- detokenization ---------------------------------------------------------------------------
NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", ")", "]", "}", "%", "''", "”", "...", "…",
                   "'s", "'S", "n't", "N'T", "'re", "'ve", "'ll", "'d", "'m", "’s", "’re",
                   "’ve", "’ll", "’d", "’m", "’t"}
NO_SPACE_AFTER = {"(", "[", "{", "``", "“", "‘", "$", "#"}
CLITIC_AFTER_APOS = {"s", "t", "re", "ve", "ll", "d", "m", "S", "T"}


def detokenize(tokens: list[str], split_compounds: bool = False) -> str:
    """Tokens of one sentence back to text: no space before closing punctuation, quotes
    attached to what they quote, ``n't``/``'s`` attached, split hyphens, slashes and
    clock colons between two word tokens closed up ("90 - day" -> "90-day", "05 / 02" ->
    "05/02", "1 : 32" -> "1:32")."""
    toks: list[str] = []
    for t in (t.strip() for t in tokens if t and t.strip()):
        if toks and t in ("'", "`") and toks[-1] == t:  # "' '" -> "''"
            toks[-1] = t + t
        else:
            toks.append(t)
    out: list[str] = []
    attach_next = False  # the previous token opens (no space after it)
    dquote_open = False  # state of straight double quotes
    squote_open = False  # state of straight/curly single quotes used as quotes
    for i, tok in enumerate(toks):
        prev = toks[i - 1] if i else ""
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        text = {"``": "\"", "''": "\"", "-LRB-": "(", "-RRB-": ")"}.get(tok, tok)
        space = bool(out) and not attach_next
        attach_next = False
        if tok in NO_SPACE_BEFORE or (tok.startswith("'") and tok.lower() in NO_SPACE_BEFORE):
            space = False
        if tok in NO_SPACE_AFTER:
            attach_next = True
        if tok == "\"":
            # a quote opened in an earlier sentence closes here: look at the neighbours first
            closing = (bool(prev) and (not nxt or nxt in NO_SPACE_BEFORE)) or (
                bool(prev) and prev not in NO_SPACE_AFTER and dquote_open)
            if closing:
                space = False
            else:
                attach_next = True
            dquote_open = not closing
        elif tok in ("’", "'"):
            if nxt in CLITIC_AFTER_APOS and prev and prev[-1].isalnum():
                space, attach_next = False, True  # "Lohan ’ s" -> "Lohan’s"
            elif squote_open:
                space = False
                squote_open = False
            elif prev[-1:] in ("s", "S"):
                space = False  # possessive: "Chargers ' Jackson" -> "Chargers' Jackson"
            else:
                attach_next = True
                squote_open = True
        elif tok == "‘" or tok == "`":
            squote_open = True
            text = "'" if tok == "`" else tok
            attach_next = True
        elif len(tok) > 1 and tok[0] in "'`‘" and tok[1].isalnum() and tok not in NO_SPACE_BEFORE:
            squote_open = True  # a quote glued to its first word: "'fixed", "`Deep"
            text = "'" + tok[1:] if tok[0] == "`" else tok
        elif (tok == "/" or (tok == "-" and split_compounds)) and prev[-1:].isalnum() \
                and nxt[:1].isalnum():
            # split compounds, dates and paths of the ECB+ tokenizer
            space, attach_next = False, True
        elif split_compounds and tok == "." and prev[-1:].isdigit() and nxt[:1].isdigit():
            space, attach_next = False, True  # "27 . 5MM" -> "27.5MM"
        elif tok == ":" and prev.isdigit() and nxt[:2].isdigit():
            space, attach_next = False, True
        if space:
            out.append(" ")
        out.append(text)
    return "".join(out).strip()


# -- document structure -----------------------------------------------------------------------
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DATE_WORDS = re.compile(
    r"\b(" + "|".join(MONTHS) + r")[a-z]*\b|\b(19|20)\d\d\b|\b\d{1,2}/\d{1,2}(/\d{2,4})?\b"
    r"|\b\d{1,2}:\d\d(am|pm)?\b|\b\d{1,2}(am|pm)\b|\b(am|pm|a\.m\.|p\.m\.|edt|est|pdt|pst|gmt|utc|cst|et)\b"
    r"|\b(updated|published|posted|last)\b", re.IGNORECASE)


def is_url(line: str) -> bool:
    return bool(re.match(r"^(https?:|www\.)", line.replace(" ", ""), re.IGNORECASE))


def is_dateline(line: str) -> bool:
    """A short line made of a date, a time and words such as "Updated"."""
    words = line.split()
    if not words or len(words) > 12 or line.endswith(("?", "!")):
        return False
    rest = re.sub(r"[\d\W_]+", " ", DATE_WORDS.sub(" ", line)).split()
    left = [w for w in rest if w.lower() not in ("on", "at", "by", "th", "st", "nd", "rd",
                                                 "first", "originally", "mon", "tue", "wed",
                                                 "thu", "fri", "sat", "sun", "monday",
                                                 "tuesday", "wednesday", "thursday",
                                                 "friday", "saturday", "sunday", "of")]
    return len(left) <= 1 and bool(DATE_WORDS.search(line))


def is_headline(line: str) -> bool:
    """A title: up to 25 words and no sentence-final full stop."""
    return 0 < len(line.split()) <= 25 and not line.rstrip("\"'”’ ").endswith(".")


def split_head(lines: list[str], plus: bool) -> tuple[str | None, str | None, list[str]]:
    """(url, title, text lines) of a document's sentences.

    ECB+ documents start with their URL, then headline and dateline in either order (or one
    of them only, or two datelines). The headline is the first line among the first three
    after the URL that is not a dateline, if it is no full sentence (:func:`is_headline`) or
    a dateline follows it. ECB documents have no URL or dateline; their first line is the
    title when it is no full sentence, else they have none.
    """
    url = None
    if plus and lines and is_url(lines[0]):
        url, lines = lines[0].replace(" ", ""), lines[1:]
    if not plus:
        # many ECB documents (topics 19-44 mostly) open with their headline
        # (up to 18 words: longer ones are ledes that lost their full stop)
        if len(lines) > 1 and is_headline(lines[0]) and len(lines[0].split()) <= 18:
            return url, lines[0], lines[1:]
        return url, None, lines
    for i, line in enumerate(lines[:3]):
        if is_dateline(line):
            continue
        dated = i + 1 < len(lines) and is_dateline(lines[i + 1])
        if is_headline(line) or (dated and len(line.split()) <= 40):
            return url, line, lines[:i] + lines[i + 1:]
        break
    return url, None, lines


def sentences(xml: bytes, split_compounds: bool) -> list[str]:
    root = ET.fromstring(xml)
    by_sentence: dict[int, list[str]] = {}
    for token in root.iter("token"):
        by_sentence.setdefault(int(token.get("sentence", "0")), []).append(token.text or "")
    lines = [detokenize(by_sentence[k], split_compounds) for k in sorted(by_sentence)]
    return [line for line in lines if line]


def documents(args: argparse.Namespace) -> dict[str, bytes]:
    if args.src:
        return {p.name: p.read_bytes() for p in Path(args.src).glob("*/*.xml")}
    blob = subprocess.run(["git", "--git-dir", args.git_dir, "archive", args.commit, "ECB+"],
                          check=True, capture_output=True).stdout
    found = {}
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        for member in tar.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            if member.isfile() and NAME.match(name):
                handle = tar.extractfile(member)
                assert handle is not None
                found[name] = handle.read()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--git-dir", default=GIT_DIR)
    parser.add_argument("--commit", default=COMMIT)
    parser.add_argument("--src", help="an extracted ECB+ folder instead of the git mirror")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "ecbplus.jsonl"))
    args = parser.parse_args(argv)
    docs = documents(args)

    def order(name: str) -> tuple[int, int, int]:
        m = NAME.match(name)
        assert m is not None
        return int(m[1]), m[3] == "ecbplus", int(m[2])

    rows = []
    for name in sorted(docs, key=order):
        m = NAME.match(name)
        assert m is not None
        topic, half = m[1], m[3]
        url, title, lines = split_head(sentences(docs[name], half == "ecbplus"),
                                     half == "ecbplus")
        rows.append({"id": name[:-4], "title": title, "text": "\n".join(lines),
                     "group": f"{topic}/{half}", "topic": topic, "url_raw": url})
    with open(args.out, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    groups = {r["group"] for r in rows}
    print(f"{len(rows)} documents, {len(groups)} events, {len({r['topic'] for r in rows})} "
          f"topics, {sum(r['title'] is not None for r in rows)} titles, "
          f"{sum(not r['text'] for r in rows)} empty texts -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
