"""Progress for long work: a live line on a terminal, plain lines in logs and CI."""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    """Counts done/total and redraws one line; on a non-terminal prints each step once."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, quiet: bool = False):
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()

    def step(self, note: str = "") -> None:
        self.done += 1
        if self.quiet:
            return
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        line = f"{self.label} [{bar}] {self.done}/{self.total} {note}"
        if self.live:
            self.stream.write("\r\x1b[2K" + line[:160])
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live and not self.quiet and self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()
