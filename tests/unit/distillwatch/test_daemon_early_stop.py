"""A stop signal during start-up (imports, migrations, the lock) ends the daemon with exit 0, not killed by it.

Found by bench/chaos.py: its clean round sent SIGTERM while the daemon was still importing,
and the process died of the signal. Each case runs in a subprocess, since it signals itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from dataclasses import replace
    from pathlib import Path
    from distillwatch.early_stop import EarlyStop

    early = EarlyStop.install() if sys.argv[2] == "early" else None
    os.kill(os.getpid(), signal.SIGTERM)  # the stop arrives before the daemon runs its loop

    from distillwatch.config import load_config
    from distillwatch.daemon import run_daemon

    config = replace(load_config(None, env={}), sources=(), storage_path=Path(sys.argv[1]) / "dw.db",
                     outbox_dir=Path(sys.argv[1]) / "out")
    sys.exit(run_daemon(config, early_stop=early))
""")


def run(tmp_path: Path, mode: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "SMTP_PASSWORD")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), mode], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_sigterm_during_start_up_is_a_clean_stop(tmp_path: Path):
    done = run(tmp_path, "early")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "daemon: SIGTERM received: stopping" in done.stderr and "daemon: stopped" in done.stderr


def test_without_the_early_handler_the_signal_would_kill_it(tmp_path: Path):
    """What the CLI guards against: Python's default action for SIGTERM."""
    done = run(tmp_path, "none")
    assert done.returncode == -signal.SIGTERM
