"""SIGTERM/SIGINT that arrive while the daemon is still starting: remembered, then honoured.

Start-up takes seconds (imports, migrations, the lock, the bot's getMe). Until the event
loop's handlers are in place, Python's default for SIGTERM kills the process with the
signal, so a stop asked for then (systemd stopping a service it has just started; found
by bench/chaos.py) ended in "killed by SIGTERM" instead of the clean exit 0 the daemon
promises. `EarlyStop.install()` as the first thing of `run` remembers the signal instead;
the daemon then stops as soon as it runs.
"""

from __future__ import annotations

import signal
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class EarlyStop:
    """Holds the name of a stop signal received before the daemon's own handlers took over."""

    def __init__(self) -> None:
        self.received: str | None = None

    @classmethod
    def install(cls) -> EarlyStop:
        early = cls()
        for sig in STOP_SIGNALS:
            signal.signal(sig, early._remember)
        return early

    def _remember(self, signum: int, frame: FrameType | None) -> None:
        self.received = signal.Signals(signum).name
