"""Seeded mutations, as a careless user or an attacker would make them: bit flips, truncation,
splices and interesting bytes for any file; for JSON, values swapped for others of another
type, keys removed or added, numbers at their edges, lists emptied or doubled.

Every mutation is drawn from a ``random.Random`` seeded by the case, so a failure names its
seed and is made again exactly (``Mutator(seed)``)."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

INTERESTING_BYTES = [
    b"\x00",
    b"\xff",
    b"\r",
    b"\n",
    b"\r\n",
    b'"',
    b",",
    b"\t",
    b"{",
    b"}",
    b"[",
    b"\\",
    b"\xc3",  # half of a UTF-8 character
    b"\xef\xbb\xbf",  # a byte-order mark
    "é漢🙂".encode(),
    b"\xed\xa0\x80",  # a surrogate, not UTF-8
    b"9" * 400,
    b"-1",
    b"1e999",
    b"NaN",
]

INTERESTING_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2,
    3,
    255,
    2**31,
    -(2**31),
    2**63,
    10**20,
    -(10**20),
    10**400,
    0.5,
    -0.0,
    1e-300,
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    "",
    " ",
    "x",
    "0",
    "1.5",
    "true",
    "null",
    "x" * 300,
    "y" * 20_000,
    "\u0000",
    "\ud800",
    "line\nbreak",
    "../../etc/passwd",
    "/proc/self/maps",
    "é漢🙂",
    [],
    [1],
    [[]],
    ["a", "a"],
    [1, 2, 3],
    {},
    {"a": 1},
    {"shift": 0, "scale": 0},
    {"max": 3, "mean": 1.5},
]


class Mutator:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)

    # --- bytes --------------------------------------------------------------------------------

    def bytes(self, data: bytes, rounds: int | None = None) -> bytes:
        """``data`` with 1 to 4 byte-level changes."""
        rng = self.rng
        data = bytearray(data)
        for _ in range(rounds or rng.randint(1, 4)):
            kind = rng.choice(
                ("flip", "flip", "truncate", "splice", "delete", "insert", "duplicate", "set")
            )
            at = rng.randrange(len(data) + 1) if data else 0
            if kind == "flip" and data:
                at = min(at, len(data) - 1)
                data[at] ^= 1 << rng.randrange(8)
            elif kind == "truncate":
                del data[at:]
            elif kind == "splice" and data:
                start = rng.randrange(len(data))
                chunk = data[start : start + rng.randint(1, 64)]
                data[at:at] = chunk
            elif kind == "delete":
                del data[at : at + rng.randint(1, 32)]
            elif kind == "insert":
                data[at:at] = rng.choice(INTERESTING_BYTES)
            elif kind == "duplicate" and data:
                start = rng.randrange(len(data))
                data[start:start] = data[start : start + rng.randint(1, 256)] * rng.randint(1, 8)
            elif kind == "set" and data:
                at = min(at, len(data) - 1)
                data[at] = rng.randrange(256)
        return bytes(data)

    def lines(self, data: bytes) -> bytes:
        """``data`` changed as a table or a text is: lines doubled, dropped or swapped, the
        separators or the line endings changed, a field too long, a quote left open."""
        rng = self.rng
        lines = data.splitlines(keepends=True) or [b""]
        kind = rng.choice(
            (
                "double",
                "drop",
                "swap",
                "tabs",
                "commas",
                "cr",
                "long",
                "word",
                "quote",
                "blank",
                "header",
            )
        )
        at = rng.randrange(len(lines))
        if kind == "double":
            lines[at:at] = [lines[at]] * rng.randint(1, 50)
        elif kind == "drop":
            del lines[at]
        elif kind == "swap":
            other = rng.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == "tabs":
            lines = [line.replace(b",", b"\t") for line in lines]
        elif kind == "commas":
            lines = [line.replace(b"\t", b",").replace(b" ", b",") for line in lines]
        elif kind == "cr":
            lines = [line.replace(b"\r\n", b"\r").replace(b"\n", b"\r") for line in lines]
        elif kind == "long":
            long = b"w" * rng.choice([200, 5_000, 12_000, 140_000])
            lines[at] = lines[at].rstrip(b"\r\n") + long + b"\n"
        elif kind == "word":  # a long word inside a field, on a few lines
            line = lines[at]
            cut = rng.randrange(len(line) + 1)
            word = b" " + b"v" * rng.choice([150, 12_000]) + b" "
            lines[at:at] = [line[:cut] + word + line[cut:]] * rng.randint(1, 6)
        elif kind == "quote":
            lines[at] = b'"' + lines[at]
        elif kind == "blank":
            lines[at:at] = [b"\n"] * rng.randint(1, 5)
        elif kind == "header":
            lines = lines[:1] if rng.random() < 0.5 else lines[1:]
        return b"".join(lines)

    # --- JSON values --------------------------------------------------------------------------

    def value(self) -> Any:
        rng = self.rng
        if rng.random() < 0.8:
            return copy.deepcopy(rng.choice(INTERESTING_VALUES))
        depth = rng.randint(1, 40)
        nested: Any = 1
        for _ in range(depth):
            nested = [nested] if rng.random() < 0.5 else {"k": nested}
        return nested

    def _places(self, document: Any, path: tuple = ()) -> list[tuple]:
        """Every path into the document (keys and indices), the root included."""
        places = [path]
        if isinstance(document, dict):
            for key, value in document.items():
                places += self._places(value, (*path, key))
        elif isinstance(document, list):
            for index, value in enumerate(document[:50]):
                places += self._places(value, (*path, index))
        return places

    def json(self, document: Any, rounds: int | None = None, within: tuple = ()) -> Any:
        """A copy of ``document`` with 1 to 3 changes, at places under ``within``."""
        rng = self.rng
        document = copy.deepcopy(document)
        for _ in range(rounds or rng.randint(1, 3)):
            places = [p for p in self._places(document) if p[: len(within)] == within]
            path = rng.choice(places)
            if not path:
                if rng.random() < 0.1:
                    document = self.value()
                continue
            parent = document
            for step in path[:-1]:
                parent = parent[step]
            last = path[-1]
            kind = rng.choice(("swap", "swap", "swap", "number", "delete", "add", "list", "text"))
            current = parent[last]
            if kind == "swap":
                parent[last] = self.value()
            elif kind == "number" and isinstance(current, int | float):
                parent[last] = rng.choice(
                    [current + 1, current - 1, -current, current * 1000, 0, current + 0.5]
                )
            elif kind == "delete":
                del parent[last]
            elif kind == "add" and isinstance(current, dict):
                current[rng.choice(["extra", "x", "id", "type", "window", "name"])] = self.value()
            elif kind == "list" and isinstance(current, list):
                choice = rng.random()
                if choice < 0.3:
                    current.clear()
                elif choice < 0.6 and current:
                    current.extend(copy.deepcopy(current))
                elif current:
                    rng.shuffle(current)
            elif kind == "text" and isinstance(current, str):
                other = [v for v in self._strings(document) if v != current]
                parent[last] = rng.choice(other) if other else current + "x"
            else:
                parent[last] = self.value()
        return document

    def gentle(self, document: Any) -> Any:
        """A copy with one change a reader may well accept: a number moved a little, a text
        swapped for another of the document's (a node id in a wire: rewired), a switch
        flipped, an item of a list dropped or doubled; so that cases reach past the reader."""
        rng = self.rng
        document = copy.deepcopy(document)
        places = [p for p in self._places(document) if p]
        rng.shuffle(places)
        for path in places:
            parent = document
            for step in path[:-1]:
                parent = parent[step]
            last, current = path[-1], parent[path[-1]]
            if isinstance(current, bool):
                parent[last] = not current
            elif isinstance(current, int | float):
                parent[last] = rng.choice(
                    [current + 1, current - 1, current * 2, current // 2, 0, 1, current + 0.25]
                )
            elif isinstance(current, str) and rng.random() < 0.5:
                other = [v for v in self._strings(document) if v != current]
                if not other:
                    continue
                parent[last] = rng.choice(other)
            elif isinstance(current, list) and current:
                if rng.random() < 0.5:
                    del current[rng.randrange(len(current))]
                else:
                    current.append(copy.deepcopy(rng.choice(current)))
            else:
                continue
            return document
        return document

    def _strings(self, document: Any) -> list[str]:
        if isinstance(document, str):
            return [document]
        if isinstance(document, dict):
            return [s for v in document.values() for s in self._strings(v)] + list(document)
        if isinstance(document, list):
            return [s for v in document[:50] for s in self._strings(v)]
        return []

    def json_text(self, document: Any, within: tuple = ()) -> bytes:
        """The document changed gently half the time, else mutated as JSON, written; a tenth
        of the time, then damaged as bytes."""
        if self.rng.random() < 0.5 and not within:
            changed = self.gentle(document)
        else:
            changed = self.json(document, within=within)
        text = json.dumps(changed, allow_nan=True).encode("utf-8")
        if self.rng.random() < 0.1:
            text = self.bytes(text, 1)
        return text
