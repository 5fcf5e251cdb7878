"""Scoped ids: the dedup identity (source, id) as one string, and back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.core.identity import MAX_SCOPED_ID_CHARS, scoped_id, sent_id, split_scoped


@pytest.mark.parametrize(
    ("source", "article_id", "scoped"),
    [
        ("bbc.co.uk", "1", "bbc.co.uk:1"),
        (None, "1", "1"),
        (None, "urn:x:1", ":urn:x:1"),
        ("wire:ap", "1", "wire%3Aap:1"),
        ("100%", "a:b", "100%25:a:b"),
        ("", "1", "1"),  # an empty source is no source
    ],
)
def test_the_format(source: str | None, article_id: str, scoped: str) -> None:
    assert scoped_id(source, article_id) == scoped
    assert split_scoped(scoped) == (source or None, article_id)
    assert sent_id(scoped) == article_id


ids = st.text(min_size=1, max_size=20)
sources = st.one_of(st.none(), st.text(min_size=1, max_size=20))


@given(sources, ids, sources, ids)
def test_two_identities_are_one_string_only_when_they_are_equal(
    s1: str | None, i1: str, s2: str | None, i2: str
) -> None:
    assert (scoped_id(s1, i1) == scoped_id(s2, i2)) == ((s1, i1) == (s2, i2))


@given(sources, ids)
def test_split_inverts_scoped_id(source: str | None, article_id: str) -> None:
    assert split_scoped(scoped_id(source, article_id)) == (source, article_id)


def test_the_longest_scoped_id_is_bounded() -> None:
    assert len(scoped_id(":" * 256, "x" * 512)) == MAX_SCOPED_ID_CHARS
