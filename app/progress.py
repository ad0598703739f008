"""The progress of a long command, on stderr: rich's bar on a terminal, plain lines otherwise.

A log file, a pipe or a container's output gets whole lines (no ``\\r``, no colour codes), one per
tenth of the work and one at the end, e.g. ``close organization 3: 40/120 periods``. Whether stderr
is a terminal is rich's own test (``TTY_COMPATIBLE`` and ``FORCE_COLOR`` decide over it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.filesize import decimal
from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                           TimeRemainingColumn)

Update = Callable[..., None]  # update(completed, total=None, note="")
STEP_PERCENT = 10  # plain lines: one per tenth of the work


def _console(stream: TextIO | None) -> Console:
    return Console(file=stream) if stream is not None else Console(stderr=True)


@contextmanager
def progress(label: str, total: int, unit: str = "", *, in_bytes: bool = False,
             stream: TextIO | None = None) -> Iterator[Update]:
    """``update(completed, total=None, note="")`` reports ``completed`` of ``total`` (bytes when
    ``in_bytes``, else counted in ``unit``; a ``total`` given to ``update`` replaces the first one);
    ``note`` is shown after it (e.g. the events sent)."""
    console = _console(stream)
    if console.is_terminal and not console.is_dumb_terminal:
        with _bar(console, label, total, unit, in_bytes) as update:
            yield update
        return
    yield _lines(console, label, total, unit, in_bytes)


@contextmanager
def _bar(console: Console, label: str, total: int, unit: str, in_bytes: bool) -> Iterator[Update]:
    amount: ProgressColumn = DownloadColumn() if in_bytes else MofNCompleteColumn()
    columns = (TextColumn(label), BarColumn(), amount, TextColumn(unit), TextColumn("{task.fields[note]}"),
               TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(label, total=total, note="")

        def update(completed: int, total: int | None = None, note: str = "") -> None:
            bar.update(task, completed=completed, total=total, note=note)

        yield update


def _lines(console: Console, label: str, total: int, unit: str, in_bytes: bool) -> Update:
    shown, first_total = -STEP_PERCENT, total

    def update(completed: int, total: int | None = None, note: str = "") -> None:
        nonlocal shown
        total = first_total if total is None else total
        percent = 100 * completed // total if total else 100
        if percent - shown < STEP_PERCENT and completed < total:
            return
        shown = percent
        amount = f"{decimal(completed)}/{decimal(total)}" if in_bytes else f"{completed}/{total}"
        text = " ".join(part for part in (f"{label}:", amount, unit, note) if part)
        console.file.write(f"{text}\n")  # the stream itself: no markup, no wrapping, no colour codes
        console.file.flush()

    return update
