"""Markdown bodies: told from plain text by their markup, rendered to HTML for the fragment
path, with a leading ``# heading`` as the title.

CMS exports, feed readers and text generators hand articles over in Markdown. Read as plain
text, "# Headline" lost its title and "**stage two**", "[James Ortega](https://...)" kept
their markup in the text and the fingerprint. markdown-it-py (CommonMark) renders it; the
HTML fragment path then extracts paragraphs and links as for any fragment.

A body is Markdown when it holds at least two different constructs, one of them a heading,
a link or strong emphasis: one alone is common in plain text ("# 1 seed", a "**" note, a
"> quoted" e-mail line, "- " lists), two different ones are not.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# Each construct at most once; the scan reads a bounded head of the body, every pattern is
# linear (bounded repeats, no nesting).
_STRONG_CONSTRUCTS = {
    "heading": re.compile(r"(?m)^#{1,6}[ \t]+\S"),
    "link": re.compile(r"\[[^\]\n]{1,300}\]\((?:https?://|/)[^()\s]{0,2000}\)"),
    "strong": re.compile(r"(\*\*|__)[^\s*_][^\n*_]{0,300}(?<=\S)\1"),
}
_WEAK_CONSTRUCTS = {
    "list": re.compile(r"(?m)^[ \t]{0,3}[-*+][ \t]+\S"),
    "quote": re.compile(r"(?m)^[ \t]{0,3}>[ \t]?\S"),
    "fence": re.compile(r"(?m)^[ \t]{0,3}(?:```|~~~)"),
}
_HEAD_CHARS = 65536
# markdown-it-py is linear but pure Python: ~7 us a character on hostile input (1 MiB of
# "[" took 7 s on this machine), ~1 us on prose. A longer body (20,000 words of Markdown is
# no news article) stays plain text, as before Markdown was read.
MAX_MARKDOWN_CHARS = 128 * 1024


def short_enough(text: str) -> bool:
    """Whether ``text`` may be rendered as Markdown (:data:`MAX_MARKDOWN_CHARS`), whatever
    says it is Markdown: its content type or :func:`looks_like_markdown`."""
    return len(text) <= MAX_MARKDOWN_CHARS


def looks_like_markdown(text: str) -> bool:
    """Whether ``text`` is written in Markdown (see the module docstring) and short enough
    to render."""
    if not short_enough(text):
        return False
    head = text[:_HEAD_CHARS]
    if "#" not in head and "]" not in head and "*" not in head and "_" not in head:
        # The common case, plain text: every strong construct needs one of these; a
        # one-character search is a memchr (two-character ones cost ~5 us on 6 KB of prose).
        return False
    strong = sum(1 for pattern in _STRONG_CONSTRUCTS.values() if pattern.search(head))
    if not strong:
        return False
    return strong + sum(1 for pattern in _WEAK_CONSTRUCTS.values() if pattern.search(head)) >= 2


@functools.cache
def _renderer() -> Any:
    from markdown_it import MarkdownIt  # noqa: PLC0415 - only Markdown bodies need it

    return MarkdownIt("commonmark")


def render_markdown(text: str) -> tuple[str | None, str]:
    """The first-level heading that opens ``text`` (the title) and ``text`` as HTML."""
    renderer = _renderer()
    tokens = renderer.parse(text)
    title = None
    if len(tokens) >= 2 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        title = "".join(child.content for child in tokens[1].children or ()
                        if child.type in ("text", "code_inline")) or None
    return title, renderer.renderer.render(tokens, renderer.options, {})
