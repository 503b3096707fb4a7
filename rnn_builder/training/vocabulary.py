"""Text into token ids, labels into classes: the one way a person's data is read, in training and
after it.

A :class:`Tokenizer` cuts text into words (runs of letters and digits, a contraction kept whole,
each punctuation mark on its own) or characters, lowercased or not. A :class:`Vocabulary` is
the tokens a network knows, most frequent first, built from the *training* part only (so the
unknown rate on validation says how often new text will hold words it never saw); a token it
does not know reads as ``<unk>``, id 0. Padding is not a token: batches pad ids with -1 and
mask those steps (see ``training.data``). A target vocabulary (the other side of a pair) also
has ``<start>``, fed back to a decoder before its first step, and ``<end>``, which closes every
target sequence so that generation knows when to stop.

What these work out is kept with the project (``Vocabulary.tokens``, the class names), so that
``predict``, the probe box, stepping and the exports read new input exactly as training did.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

UNKNOWN, START, END = "<unk>", "<start>", "<end>"
SOURCE_SPECIALS = (UNKNOWN,)
TARGET_SPECIALS = (UNKNOWN, START, END)
WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
MAX_VOCABULARY = 100_000
# A token longer than this is no word (a hash, a run of one letter) and is not kept: it reads
# as <unk>. A vocabulary is kept in the project file, whose options hold text of at most
# values.MAX_TEXT characters and which is at most 20 MB: 100,000 tokens of 100 characters fit.
MAX_TOKEN = 100


@dataclass(frozen=True)
class Tokenizer:
    unit: str = "words"  # or "characters"
    lowercase: bool = True

    def __call__(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        if self.unit == "characters":
            return list(text)
        return WORD.findall(text)


class Vocabulary:
    """Tokens by id (the specials first); ids of unknown tokens are 0 (``<unk>``)."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = list(tokens)
        self.index = {token: i for i, token in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("a vocabulary holds each token once")
        if self.tokens[:1] != [UNKNOWN]:
            raise ValueError(f"a vocabulary starts with {UNKNOWN}")

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    @staticmethod
    def build(
        counts: Counter,
        min_count: int = 1,
        max_size: int = 10_000,
        specials: Sequence[str] = SOURCE_SPECIALS,
    ) -> Vocabulary:
        """The ``max_size`` tokens (specials included) seen at least ``min_count`` times and
        no longer than ``MAX_TOKEN``, most frequent first (ties in the order of the text's code
        points: the same data, the same ids)."""
        kept = sorted(
            (
                t
                for t, n in counts.items()
                if n >= min_count and t not in specials and len(t) <= MAX_TOKEN
            ),
            key=lambda t: (-counts[t], t),
        )
        return Vocabulary([*specials, *kept[: max(0, max_size - len(specials))]])

    def ids(self, tokens: Iterable[str]) -> np.ndarray:
        index = self.index
        return np.fromiter((index.get(t, 0) for t in tokens), dtype=np.int64)

    def unknown(self, tokens: Iterable[str]) -> list[str]:
        """The tokens this vocabulary does not know, in order (each once)."""
        index = self.index
        return list(dict.fromkeys(t for t in tokens if t not in index))

    def words(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] if 0 <= i < len(self.tokens) else UNKNOWN for i in ids]


def class_order(labels: Iterable[str]) -> list[str]:
    """Class names in a stable order: numerically when every label is a number (so '2' comes
    before '10'), else as text."""
    unique = set(labels)

    def as_number(label: str) -> float | None:
        try:
            return float(label)
        except ValueError:
            return None

    if unique and all(as_number(label) is not None for label in unique):
        return sorted(unique, key=lambda label: (as_number(label), label))
    return sorted(unique)
