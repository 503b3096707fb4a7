"""The fuzz suite: a few cases of each kind in CI, thousands with ``RNN_BUILDER_FUZZ=full``
(see ``tests/fuzz/harness.py``); its figures are printed at the end of the run."""

from __future__ import annotations

import json
import os
from dataclasses import asdict

from tests.fuzz.harness import FIGURES, FULL


def pytest_terminal_summary(terminalreporter) -> None:
    if not FIGURES:
        return
    write = terminalreporter.write_line
    write(f"fuzz ({'full' if FULL else 'small'} count):")
    for target, figures in sorted(FIGURES.items()):
        write(
            f"  {target:<10} {figures.cases:>6} cases, {figures.refused:>6} refused in one line, "
            f"{figures.deep:>6} past the reader; "
            f"worst {figures.worst_seconds:.2f} s ({figures.worst_case[:60]}), peak "
            f"{figures.peak_bytes / 1e6:.0f} MB"
        )
    report = os.environ.get("RNN_BUILDER_FUZZ_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as stream:
            json.dump({t: asdict(f) for t, f in FIGURES.items()}, stream, indent=2)
