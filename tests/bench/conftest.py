"""Shared benchmark reporting: figures that show in the terminal summary, with or without -s.

Any benchmark in tests/bench can record lines with the `report` fixture:

    def test_peer_ratio(report):
        report("conditions", "ours vs growthbook: 5.1x faster")

Each name becomes a block under "perso benchmark figures" at the end of the run
(pytest's terminal reporter prints it, so output capture does not hide it). Outside a
fixture, call `record(name, text)` directly.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

__all__ = ["record"]

_FIGURES: dict[str, list[str]] = {}


def record(name: str, text: str) -> None:
    """Add `text` (one or more lines) to the block `name` of the summary."""
    _FIGURES.setdefault(name, []).extend(text.splitlines() or [""])


@pytest.fixture
def report() -> Callable[[str, str], None]:
    """`report(name, text)`: print `text` under `name` in the terminal summary."""
    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("perso benchmark figures")
    for name, lines in _FIGURES.items():
        terminalreporter.write_line(f"[{name}]")
        for line in lines:
            terminalreporter.write_line(f"  {line}")
