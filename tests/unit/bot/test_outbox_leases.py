"""A sender killed mid-send: its lease names it, so the next start sends the message again at once.

Before leases had holders, a message in flight at a crash waited out the whole 5-minute
lease after the restart (found by bench/chaos.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot_helpers import NOW, Clock, rows

from bot.outbox import drain, lease_owner, release_orphaned_leases
from storage import Delivery, open_db
from storage.deliveries import claim_delivery, due_deliveries, enqueue, mark_retry

REPO = Path(__file__).resolve().parents[3]
STUCK_SENDER = textwrap.dedent("""
    import asyncio, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from bot.outbox import drain
    from storage import open_db

    class Stuck:
        async def send(self, delivery):
            Path(sys.argv[2]).write_text(str(delivery.id))
            await asyncio.sleep(3600)  # the channel took it; the answer never comes

    asyncio.run(drain(open_db(sys.argv[1]), {"telegram": Stuck()}, lambda: datetime.now(UTC)))
""")


class Recorder:
    def __init__(self):
        self.sent: list[str] = []

    async def send(self, delivery: Delivery) -> str:
        self.sent.append(delivery.key)
        return f"m{len(self.sent)}"


def test_a_sender_killed_mid_send_is_resent_at_the_next_start_not_after_the_lease(tmp_path):
    path, marker = tmp_path / "dw.db", tmp_path / "sending"
    db = open_db(path)
    enqueue(db, Delivery(target="telegram:@chan", kind="alert", key="alert:s1", payload='{"text": "x"}'), NOW)
    db.close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", STUCK_SENDER, str(path), str(marker)], cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), "the sender never got the message"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    db = open_db(path)
    now = Clock(datetime.now(UTC))  # the dead sender claimed on the wall clock; no time passes here
    assert due_deliveries(db, now()) == []  # leased by the dead process
    assert release_orphaned_leases(db, now()) == 1
    recorder = Recorder()
    report = asyncio.run(drain(db, {"telegram": recorder}, now))
    assert recorder.sent == ["alert:s1"] and len(report.sent) == 1
    assert rows(db)[0]["state"] == "sent" and rows(db)[0]["leased_by"] is None
    db.close()


def test_only_leases_of_gone_holders_on_this_host_are_taken_back(db):
    for key in ("live", "other-host", "other-namespace", "gone", "backing-off"):
        enqueue(db, Delivery(target="telegram:@chan", kind="alert", key=key, payload="{}"), NOW)
    ids = {row["key"]: row["id"] for row in rows(db)}
    host = lease_owner().rpartition(":")[0]  # host name and pid namespace
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    claim_delivery(db, ids["live"], NOW, timedelta(minutes=5), f"{host}:{os.getppid()}")
    claim_delivery(db, ids["other-host"], NOW, timedelta(minutes=5), "elsewhere:1:1")
    # A container sharing our host name: its pids are not ours to look up.
    claim_delivery(db, ids["other-namespace"], NOW, timedelta(minutes=5),
                   f"{socket.gethostname()}:1:{finished.stdout.strip()}")
    claim_delivery(db, ids["gone"], NOW, timedelta(minutes=5),
                   f"{host}:{finished.stdout.strip()}")
    claim_delivery(db, ids["backing-off"], NOW, timedelta(minutes=5), lease_owner())
    mark_retry(db, ids["backing-off"], "429", timedelta(minutes=2), NOW)  # an outcome: no lease

    assert release_orphaned_leases(db, NOW) == 1
    assert [d.key for d in due_deliveries(db, NOW)] == ["gone"]


def test_a_lease_with_our_own_pid_is_an_earlier_process(db):
    """Containers restart with the same pids: at start, nothing can be ours yet."""
    enqueue(db, Delivery(target="telegram:@chan", kind="alert", key="mine", payload="{}"), NOW)
    claim_delivery(db, rows(db)[0]["id"], NOW, timedelta(minutes=5), lease_owner())
    assert release_orphaned_leases(db, NOW) == 1
    assert [d.key for d in due_deliveries(db, NOW)] == ["mine"]
