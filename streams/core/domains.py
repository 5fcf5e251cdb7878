"""The publisher of a URL: its registrable domain (``https://www.bbc.co.uk/news/x`` ->
``bbc.co.uk``).

Public-suffix aware and offline: ``publicsuffixlist`` ships the Public Suffix List inside
its wheel and never downloads (tldextract would fetch a fresh list unless told not to, and
brings requests and filelock along). Both the ICANN and the private sections count, so each
``name.blogspot.com`` or ``name.github.io`` site is its own publisher. Loading the list
costs ~0.4 s once per process; a lookup ~13 µs (measured on this machine).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

MAX_URL_CHARS = 2048
# A scheme-less URL must start with a host name ("www.example.com/a"), not "mailto:" & co.
_BARE_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)+(?::\d{1,5})?(?:[/?#]|$)")
_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)+")
_LABEL = re.compile(r"[\w-]+")
_PUNYCODE_PREFIX = "xn--"
_PLATFORM = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+")


@functools.cache
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()


# Hosts whose URLs lead to other publishers' articles: a feed reader's or aggregator's
# link (Google News, FeedBurner), a link shortener. Their domain names no publisher: a
# new-user trial (2026-12-06) had news.google.com and feedproxy.google.com links become
# source "google.com". An AMP cache URL (``*.cdn.ampproject.org/c/s/<host>/<path>``) holds
# the publisher's address in its path and is read for it.
INTERMEDIARY_HOSTS = frozenset({
    "news.google.com", "feedproxy.google.com", "feeds.feedburner.com", "feeds2.feedburner.com",
    "news.url.google.com", "t.co", "bit.ly", "ow.ly", "buff.ly", "dlvr.it", "trib.al",
    "lnkd.in", "flip.it", "l.facebook.com", "lm.facebook.com", "out.reddit.com", "apple.news",
    "tinyurl.com", "rss.app",
})
# Hosting platforms whose subdomains are publications of their own (a newsletter, a blog,
# a newsroom) and that the Public Suffix List does not list (its private section has
# blogspot.com, github.io, wixsite.com, hatenablog.com and more, which need nothing here):
# ``jane.substack.com`` is Jane's newsletter, not Substack's. Found by a check of the list
# shipped in the wheel (2026-12-06): every Substack newsletter, WordPress.com or Tumblr
# blog had one source, so their articles shared one set of learned boilerplate and one
# id scope. ``go.com`` hosts Disney's newsrooms (``abcnews.go.com``, ``espn.go.com``).
# ``INGEST_PUBLISHING_PLATFORMS`` adds more. A platform's own host (``substack.com``,
# ``www.substack.com``) and path-based blogs (``medium.com/@jane``) stay the platform.
PUBLISHING_PLATFORMS = frozenset({
    "substack.com", "beehiiv.com", "ghost.io", "posthaven.com", "svbtle.com",
    "wordpress.com", "tumblr.com", "medium.com", "livejournal.com", "dreamwidth.org",
    "typepad.com", "weebly.com", "hashnode.dev", "micro.blog", "kinja.com",
    "over-blog.com", "canalblog.com", "eklablog.com", "centerblog.net", "skyrock.com",
    "blog.hu", "tistory.com", "exblog.jp", "blog.jp", "livedoor.blog", "doorblog.jp",
    "seesaa.net", "jugem.jp", "cocolog-nifty.com", "blog.fc2.com",
    "go.com",
})
_AMP_CACHE_SUFFIX = ".cdn.ampproject.org"
_AMP_CACHE_PATH = re.compile(r"/[a-z]/(?:s/)?([^/?#]+\.[^/?#]+(?:[/?#].*)?)$")


def publisher_domain(
    *urls: str | None, platforms: AbstractSet[str] = PUBLISHING_PLATFORMS
) -> str | None:
    """The registrable domain of the first of ``urls`` that names a publisher: one on an
    intermediary's host (:data:`INTERMEDIARY_HOSTS`) is passed over, an AMP cache URL is
    read for the address it holds. When every URL is an intermediary's, its own domain. On
    a publishing platform (``platforms``), the publication's host under it."""
    fallback = None
    for url in urls:
        host = _host(url)
        if host is not None and host.endswith(_AMP_CACHE_SUFFIX):
            host = _host(_held_address(url)) or host
        if host is None or (domain := _registrable(host, platforms)) is None:
            continue
        if host not in INTERMEDIARY_HOSTS and not host.endswith(_AMP_CACHE_SUFFIX):
            return domain
        fallback = fallback or domain
    return fallback


def _held_address(url: str | None) -> str | None:
    """The publisher's address an AMP cache URL holds in its path, if it holds one."""
    if not url:
        return None
    held = _AMP_CACHE_PATH.match(urlsplit(_with_scheme(url.strip())).path)
    return "https://" + held.group(1) if held else None


def registrable_domain(
    url: str | None, platforms: AbstractSet[str] = PUBLISHING_PLATFORMS
) -> str | None:
    """The registrable domain of ``url``'s host; None for IPs, bare suffixes and non-URLs.
    On a publishing platform (``platforms``), the publication's host under it."""
    return _registrable(_host(url), platforms)


def _registrable(host: str | None, platforms: AbstractSet[str]) -> str | None:
    if host is None:
        return None
    domain = _suffix_list().privatesuffix(host)
    if not isinstance(domain, str):
        return None
    return _publication(host, domain, platforms) if platforms else domain


def _publication(host: str, domain: str, platforms: AbstractSet[str]) -> str:
    """The publication's host on a publishing platform: the label just under the platform's
    domain, with the platform (``www.jane.substack.com`` -> ``jane.substack.com``); else
    ``domain``. Only platforms at or under the registrable domain are looked for."""
    labels = host.split(".")
    for i in range(1, len(labels) - domain.count(".")):
        platform = ".".join(labels[i:])
        if platform in platforms:
            return domain if labels[i - 1] == "www" else f"{labels[i - 1]}.{platform}"
    return domain


def platform_problems(platforms: Iterable[str]) -> list[str]:
    """What is wrong with extra publishing platforms (``INGEST_PUBLISHING_PLATFORMS``): each
    must be a host name of two labels or more (``example-blogs.com``)."""
    return [f"{platform!r} is not a domain name" for platform in platforms
            if not _PLATFORM.fullmatch(platform)]


def _with_scheme(text: str) -> str:
    if text.startswith("//") or _BARE_HOST.match(text):
        # Producers send "www.example.com/a" and "//www.example.com/a" too.
        return "http://" + text.lstrip("/")
    return text


def _host(url: str | None) -> str | None:
    """``url``'s host, in Unicode (NFC), without a trailing dot; None for IPs and non-URLs."""
    if not url or len(url) > MAX_URL_CHARS:
        return None
    text = url.strip()
    try:
        parts = urlsplit(_with_scheme(text))
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    host = _unicode_host(host.rstrip("."))
    if not _HOST.fullmatch(host) or _is_ip(host):
        return None
    return host


def _unicode_host(host: str) -> str:
    """``host`` with its punycode labels in Unicode (``xn--bcher-kva`` -> ``bücher``), NFC.

    A publisher's URLs come in both forms (and, typed, decomposed): each form would be a
    source of its own, splitting the site's learned boilerplate and scoped ids. A label
    that does not decode to a non-ASCII name is kept as sent.
    """
    if _PUNYCODE_PREFIX in host:
        host = ".".join(map(_unicode_label, host.split(".")))
    return unicodedata.normalize("NFC", host)


def _unicode_label(label: str) -> str:
    if not label.startswith(_PUNYCODE_PREFIX):
        return label
    try:
        name = label[len(_PUNYCODE_PREFIX):].encode("ascii").decode("punycode").lower()
    except UnicodeError:
        return label
    return name if not name.isascii() and _LABEL.fullmatch(name) else label


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
