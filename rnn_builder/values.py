"""Checks for plain values that come from users and files: numbers that are finite and of sane
size, and text that can be written back as UTF-8."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# Far beyond any width, length or rate a network uses, and still exact as a float.
MAX_MAGNITUDE = 10**15


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool) no larger in magnitude than ``MAX_MAGNITUDE``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE  # never converts: huge ints overflow
    return math.isfinite(value) and abs(value) <= MAX_MAGNITUDE


def is_savable_text(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (a lone surrogate from a ``\\ud800`` escape does not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def short(value: Any, limit: int = 40) -> str:
    """``repr`` cut to ``limit`` characters, for messages that quote what the user gave."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(text: str) -> str:
    """``text`` with what would break its line or hide in a terminal (line breaks, tabs,
    control characters, Unicode's line separators) written as escapes, e.g. ``\\n``."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def names_mismatch(expected: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    """Why a set of weights does not fit by name ("missing …; unknown …"), or None."""
    missing = sorted(set(expected) - set(given))
    extra = sorted(set(given) - set(expected))
    if not (missing or extra):
        return None
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing[:5]))
    if extra:
        parts.append("unknown " + ", ".join(extra[:5]))
    return "the weights do not fit this graph: " + "; ".join(parts)


# The longest text a project file holds in one place (a description, a data option).
MAX_TEXT = 10_000
# The longest list (a data set's vocabulary, kept with the project, is the longest there is).
MAX_LIST = 100_000


def is_plain_value(value: Any, depth: int = 0) -> bool:
    """Numbers, text, true/false, null, and lists or objects of those, three levels deep."""
    if isinstance(value, str):
        return len(value) <= MAX_TEXT and is_savable_text(value)
    if value is None or isinstance(value, bool) or is_number(value):
        return True
    if depth >= 3:
        return False
    if isinstance(value, list):
        return len(value) <= MAX_LIST and all(is_plain_value(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= 1_000 and all(
            is_savable_text(k) and is_plain_value(v, depth + 1) for k, v in value.items()
        )
    return False
