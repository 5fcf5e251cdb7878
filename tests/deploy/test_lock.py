"""requirements.lock, what the image installs with `pip install --require-hashes`.

The lock is read, not installed (that needs a registry): every entry is pinned with hashes,
and it satisfies pyproject.toml, so a dependency added or narrowed there without `make lock`
fails here instead of in the image build.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.harness import ROOT

LOCK = ROOT / "requirements.lock"
_ENTRY = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s*\\\s*--hash=sha256:[0-9a-f]{64})*)", re.MULTILINE
)


@cache
def locked() -> dict[str, tuple[Version, int]]:
    """Canonical name -> (pinned version, number of hashes)."""
    text = re.sub(r"^\s*#.*$", "", LOCK.read_text(), flags=re.MULTILINE)
    return {
        canonicalize_name(m.group(1)): (Version(m.group(2)), m.group(3).count("--hash="))
        for m in _ENTRY.finditer(text)
    }


def requirement_lines() -> list[str]:
    """Every requirement line of the lock (not an option, comment or hash continuation)."""
    return [line for line in LOCK.read_text().splitlines()
            if line and not line[0].isspace() and not line.startswith(("#", "-"))]


def test_every_locked_requirement_is_pinned_with_hashes() -> None:
    lines = requirement_lines()
    assert len(lines) == len(locked()) > 40
    assert [name for name, (_, hashes) in locked().items() if hashes == 0] == []


def test_the_lock_satisfies_every_runtime_dependency_and_the_build_system() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [Requirement(r) for r in pyproject["project"]["dependencies"]]
    wanted += [Requirement(r) for r in pyproject["build-system"]["requires"]]
    unsatisfied = []
    for req in wanted:
        pinned = locked().get(canonicalize_name(req.name))
        if pinned is None or not req.specifier.contains(pinned[0], prereleases=True):
            unsatisfied.append(f"{req} (locked: {pinned[0] if pinned else 'absent'})")
    assert unsatisfied == [], "run `make lock`: " + "; ".join(unsatisfied)


def test_the_lock_is_what_make_lock_writes() -> None:
    header = LOCK.read_text().split("\n\n", 1)[0]
    assert "#    make lock" in header
    assert "/tmp/" not in LOCK.read_text()  # no machine-local constraint paths leaked in
