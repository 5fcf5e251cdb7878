"""Row storage of the compact index: the string fields of an entry packed into one ``bytes``.

One ``bytes`` per row (33 B of object header) instead of a Python object per field: the id,
the root (absent when the article is its own root), the origin and ``superseded_by``, then,
only when some field cannot go into the numpy columns or differs from its default, a pickle
of the rare fields (:data:`EXTRA_FIELDS`: whatever :class:`IndexEntry` carries beyond the
fields the compact index knows, so a field added to it is stored and returned unchanged).
"""

from __future__ import annotations

import dataclasses
import pickle
import struct
from typing import Any

from streams.core.dedup.model import IndexEntry

# Fields stored in numpy columns or in the packed strings; any other field is "extra".
CORE_FIELDS = frozenset(
    {"id", "event_time_ms", "fingerprint", "root", "source", "seen_at_ms", "superseded_by",
     "origin"}
)
EXTRA_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(IndexEntry) if f.name not in CORE_FIELDS
)


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


EXTRA_DEFAULTS: tuple[Any, ...] = tuple(
    _default(f) for f in dataclasses.fields(IndexEntry) if f.name in EXTRA_FIELDS
)

_SHORT = struct.Struct("<BHHHH")
_LONG = struct.Struct("<BIIII")
_SHORT_ABSENT = 0xFFFF
# The fewest bytes a packed row has: the short header, every string empty.
MIN_PACKED_BYTES = _SHORT.size
_LONG_ABSENT = 0xFFFFFFFF


def pack_strings(
    article_id: str, root: str, origin: str, superseded_by: str | None, rare: bytes = b""
) -> bytes:
    """The packed strings of one row; ``rare`` (a pickle, or empty) goes last."""
    id_b = article_id.encode("utf-8", "surrogatepass")
    root_b = b"" if root == article_id else root.encode("utf-8", "surrogatepass")
    origin_b = origin.encode("utf-8", "surrogatepass")
    sb_b = b"" if superseded_by is None else superseded_by.encode("utf-8", "surrogatepass")
    lengths = (len(id_b), len(root_b), len(origin_b), len(sb_b))
    if max(lengths) < _SHORT_ABSENT:
        absent, header = _SHORT_ABSENT, _SHORT
        tag = 0
    else:
        absent, header = _LONG_ABSENT, _LONG
        tag = 1
    root_len = absent if root == article_id else lengths[1]
    sb_len = absent if superseded_by is None else lengths[3]
    return b"".join(
        (header.pack(tag, lengths[0], root_len, lengths[2], sb_len), id_b, root_b, origin_b,
         sb_b, rare)
    )


def _header(blob: bytes) -> tuple[struct.Struct, int]:
    """The header layout of a packed row and its "absent" length."""
    return (_SHORT, _SHORT_ABSENT) if blob[0] == 0 else (_LONG, _LONG_ABSENT)


def unpack_strings(blob: bytes) -> tuple[str, str, str, str | None, bytes]:
    """``(id, root, origin, superseded_by, rare)`` of a packed row."""
    header, absent = _header(blob)
    _, id_len, root_len, origin_len, sb_len = header.unpack_from(blob)
    at = header.size
    article_id = blob[at:at + id_len].decode("utf-8", "surrogatepass")
    at += id_len
    if root_len == absent:
        root = article_id
    else:
        root = blob[at:at + root_len].decode("utf-8", "surrogatepass")
        at += root_len
    origin = blob[at:at + origin_len].decode("utf-8", "surrogatepass")
    at += origin_len
    superseded_by = None
    if sb_len != absent:
        superseded_by = blob[at:at + sb_len].decode("utf-8", "surrogatepass")
        at += sb_len
    return article_id, root, origin, superseded_by, blob[at:]


def split_rare(blob: bytes) -> tuple[bytes, bytes]:
    """``(strings, rare)``: a packed row cut where its rare fields begin."""
    header, absent = _header(blob)
    _, id_len, root_len, origin_len, sb_len = header.unpack_from(blob)
    end = header.size + id_len + origin_len
    end += 0 if root_len == absent else root_len
    end += 0 if sb_len == absent else sb_len
    return blob[:end], blob[end:]


def blob_id(blob: bytes) -> str:
    """The id alone (the id-table probe compares it)."""
    header = _SHORT if blob[0] == 0 else _LONG
    id_len = header.unpack_from(blob)[1]
    return blob[header.size:header.size + id_len].decode("utf-8", "surrogatepass")


def blob_is_kept(blob: bytes) -> bool:
    header, absent = _header(blob)
    return bool(header.unpack_from(blob)[2] == absent)


def pack_rare(extras: tuple[Any, ...], overrides: dict[str, Any]) -> bytes:
    """Pickle of the extra fields and of core values the columns could not hold; often empty."""
    has_extras = extras != EXTRA_DEFAULTS
    if not has_extras and not overrides:
        return b""
    return pickle.dumps((extras if has_extras else None, overrides or None), protocol=5)


def unpack_rare(rare: bytes) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if not rare:
        return EXTRA_DEFAULTS, {}
    # Only bytes this process pickled, or a checksummed snapshot in its own data directory.
    extras, overrides = pickle.loads(rare)
    return (extras if extras is not None else EXTRA_DEFAULTS), (overrides or {})
