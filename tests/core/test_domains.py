"""The publisher of a URL: its registrable domain, public-suffix aware and offline."""

from __future__ import annotations

import pytest

from streams.core.domains import (
    PUBLISHING_PLATFORMS,
    platform_problems,
    publisher_domain,
    registrable_domain,
)


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.bbc.co.uk/news/x", "bbc.co.uk"),
        ("http://news.bbc.co.uk", "bbc.co.uk"),
        ("HTTPS://WWW.BBC.CO.UK/", "bbc.co.uk"),
        ("https://edition.cnn.com/2024/08/18/x.html", "cnn.com"),
        ("https://www.abc.net.au/news/x", "abc.net.au"),
        ("https://www.gov.uk/government/news/x", "www.gov.uk"),  # gov.uk is a public suffix
        ("https://someone.blogspot.com/2024/x", "someone.blogspot.com"),  # private section
        ("https://user:pw@news.example.org:8443/x?y#z", "example.org"),
        ("www.theguardian.com/world/x", "theguardian.com"),
        ("//www.lemonde.fr/a", "lemonde.fr"),
        ("https://www.example.com./a", "example.com"),
        ("https://пример.рф/новости", "пример.рф"),
        ("https://xn--e1afmkfd.xn--p1ai/x", "пример.рф"),  # one publisher, whichever form
        ("https://www.xn--bcher-kva.de/a", "bücher.de"),
        ("https://WWW.BÜCHER.DE/a", "bücher.de"),
        ("https://www.bu\u0308cher.de/a", "bücher.de"),  # decomposed: NFC
        ("https://news.xn--bcher-kva.xn--kbenhavn-54a.dk/a", "københavn.dk"),
        ("https://www.xn--a.de/", "xn--a.de"),  # not punycode of a name: kept as sent
        ("https://www.xn--zzzz-.de/", "xn--zzzz-.de"),
        ("https://co.uk/", None),  # a bare public suffix has no registrable domain
        ("http://192.168.1.10/x", None),
        ("http://[2001:db8::1]/x", None),
        ("http://localhost:8080/x", None),
        ("ftp://files.example.com/a", None),
        ("mailto:desk@example.com", None),
        ("javascript:alert(1)", None),
        ("https://a b.com/", None),
        ("https://[broken/", None),
        ("not a url", None),
        ("", None),
        (None, None),
        ("https://example.com/" + "x" * 3000, None),
        ("https://example.com/" + "x" * (2048 - 20), "example.com"),  # the longest taken
        ("https://example.com/" + "x" * (2049 - 20), None),
        ("Xinhuanet.com/english/a", "xinhuanet.com"),  # a bare host keeps its first letter
        ("//Xinhuanet.com/a", "xinhuanet.com"),
    ],
)
def test_registrable_domain(url: str | None, domain: str | None) -> None:
    assert registrable_domain(url) == domain


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        # A publication on a hosting platform the Public Suffix List does not list is its
        # own publisher: every Substack newsletter was "substack.com".
        ("https://jane.substack.com/p/the-vote", "jane.substack.com"),
        ("https://www.jane.substack.com/p/x", "jane.substack.com"),
        ("https://JANE.Substack.com./p/x", "jane.substack.com"),
        ("https://someone.wordpress.com/2024/05/x/", "someone.wordpress.com"),
        ("https://abcnews.go.com/US/story?id=1", "abcnews.go.com"),
        ("https://a.b.tumblr.com/post/1", "b.tumblr.com"),  # the label under the platform
        ("https://foo.blog.fc2.com/blog-entry-1.html", "foo.blog.fc2.com"),  # under fc2.com
        # the platform's own hosts and path-based blogs stay the platform
        ("https://substack.com/@jane", "substack.com"),
        ("https://www.substack.com/", "substack.com"),
        ("https://medium.com/@jane/a-post-1", "medium.com"),
        ("https://blog.fc2.com/", "fc2.com"),
        ("https://fc2.com/", "fc2.com"),
        # a platform's name inside another domain is not the platform
        ("https://jane.substack.com.example.org/x", "example.org"),
        ("https://notsubstack.com/x", "notsubstack.com"),
        # a punycode label of capitals is the publication's name in lower case
        ("https://xn--tda.substack.com/p/x", "ü.substack.com"),
    ],
)
def test_a_publication_on_a_publishing_platform_is_its_own_publisher(url: str, domain: str
                                                                      ) -> None:
    assert registrable_domain(url) == domain
    assert publisher_domain(url) == domain


def test_without_publishing_platforms_the_registrable_domain_is_the_suffix_lists() -> None:
    assert registrable_domain("https://jane.substack.com/p/x", frozenset()) == "substack.com"
    assert publisher_domain("https://abcnews.go.com/US/x", platforms=frozenset()) == "go.com"
    # an operator's platform (INGEST_PUBLISHING_PLATFORMS)
    assert registrable_domain("https://x.blogs.example/a", frozenset({"blogs.example"})) == (
        "x.blogs.example")
    # a public suffix listed as a platform never shortens a registrable domain: *.kawasaki.jp
    # is public, so a.b.kawasaki.jp is one publisher (not b.kawasaki.jp)
    assert registrable_domain("https://a.b.kawasaki.jp/", frozenset({"kawasaki.jp"})) == (
        "a.b.kawasaki.jp")


def test_the_built_in_platforms_are_not_already_in_the_public_suffix_list() -> None:
    """Each built-in platform is needed: the list shipped in the wheel would give the
    platform's registrable domain for a publication under it."""
    needed = {platform for platform in PUBLISHING_PLATFORMS
              if registrable_domain(f"https://jane.{platform}/", frozenset()) != f"jane.{platform}"}
    assert needed == PUBLISHING_PLATFORMS
    assert platform_problems(sorted(PUBLISHING_PLATFORMS)) == []


@pytest.mark.parametrize(
    ("urls", "domain"),
    [
        # a feed reader's link and the page's canonical URL (a new-user trial, 2026-12-06)
        (("https://news.google.com/rss/articles/CBMiX2h0?oc=5", "https://www.reuters.com/x"),
         "reuters.com"),
        (("http://feedproxy.google.com/~r/guardian/~3/abc/", "https://www.theguardian.com/x"),
         "theguardian.com"),
        (("https://t.co/AbC", "https://www.lemonde.fr/a"), "lemonde.fr"),
        # an AMP cache URL holds the publisher's address
        (("https://www-bbc-co-uk.cdn.ampproject.org/c/s/www.bbc.co.uk/news/amp/x", None),
         "bbc.co.uk"),
        (("https://www-bbc-co-uk.cdn.ampproject.org/v/s/www.bbc.co.uk/a?amp_js_v=0.1", None),
         "bbc.co.uk"),
        # nothing but an intermediary: its domain, as before
        (("https://news.google.com/rss/articles/CBMiX2h0?oc=5", None), "google.com"),
        (("https://x.cdn.ampproject.org/", None), "ampproject.org"),
        # a publisher's own URL comes first, whatever the canonical URL says
        (("https://www.bbc.co.uk/news/x", "https://syndicator.example/y"), "bbc.co.uk"),
        (("not a url", "https://www.bbc.co.uk/news/x"), "bbc.co.uk"),
        ((None, None), None),
    ],
)
def test_the_publisher_is_the_first_url_that_is_not_an_intermediary(
    urls: tuple[str | None, str | None], domain: str | None
) -> None:
    assert publisher_domain(*urls) == domain
