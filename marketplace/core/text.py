"""Text that people type: what is refused and how it is stored.

Refused everywhere (422): control characters (NUL and the rest of Unicode's Cc; in multi-line texts newline, tab
and carriage return are allowed), lone surrogates (JSON can carry `\\ud800`; no database can store it), the
bidirectional overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069: they make a title read backwards),
and the invisible zero-width space, word joiner and byte-order mark (U+200B, U+2060, U+FEFF). Zero-width joiner
and non-joiner (U+200C, U+200D) stay: emoji sequences and several scripts need them.
Accepted text is stored in Unicode NFC, with CRLF folded to LF, and trimmed.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

_INVISIBLE = frozenset("\u200b\u2060\ufeff")
_BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_MULTILINE_OK = frozenset("\n\t")


def refused_character(value: str, *, multiline: bool = False) -> str | None:
    """A description of the first character that is not allowed, or None."""
    for ch in value:
        if ch in _MULTILINE_OK and multiline:
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"control character U+{ord(ch):04X}"
        if category == "Cs":
            return f"unpaired surrogate U+{ord(ch):04X}"
        if ch in _BIDI:
            return f"bidirectional control character U+{ord(ch):04X}"
        if ch in _INVISIBLE:
            return f"invisible character U+{ord(ch):04X}"
    return None


def _clean(value: str, *, multiline: bool) -> str:
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    bad = refused_character(value, multiline=multiline)
    if bad is not None:
        raise ValueError(f"must not contain a {bad}")
    return unicodedata.normalize("NFC", value).strip()


def clean_line(value: str) -> str:
    """A one-line text (title, name, search): no control characters at all."""
    return _clean(value, multiline=False)


def clean_text(value: str) -> str:
    """A multi-line text (description): newlines and tabs allowed, other control characters refused."""
    return _clean(value, multiline=True)


def _optional(fn):
    return lambda value: None if value is None else fn(value)


Line = Annotated[str, AfterValidator(clean_line)]
Text = Annotated[str, AfterValidator(clean_text)]
OptionalLine = Annotated[str | None, AfterValidator(_optional(clean_line))]
