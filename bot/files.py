"""The local outbox: deliveries written as files when no channel is configured.

`file:telegram` gets the Telegram HTML exactly as it would be posted; `file:email`
gets a real `.eml` (open it in a mail client) plus its `.html` and `.txt` parts to look
at. A file's name is a pure function of the delivery (enqueue time, id, kind, key), so
a resend after a crash overwrites the same file instead of adding a second one, and
each write is atomic (temp file, fsync, rename) so nobody ever reads half a digest.
"""

from __future__ import annotations

import asyncio
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from bot.email import build_email, message_id_for
from bot.outbox import PermanentError, TransientError, payload_of, target_address
from storage.records import Delivery
from storage.timeutil import from_text

FILE_SENDER = "distillwatch <distillwatch@localhost>"
_FOLDER = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


class FileSender:
    """Writes 'file:<folder>' deliveries under `out_dir/<folder>/`; returns the main file's path."""

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)

    async def send(self, delivery: Delivery) -> str:
        folder = target_address(delivery.target)
        if not _FOLDER.fullmatch(folder):
            raise PermanentError(f"outbox: file target must be a plain folder name, got {folder!r}")
        payload = payload_of(delivery)
        try:
            return await asyncio.to_thread(self._write, self.out_dir / folder, delivery, payload)
        except OSError as exc:  # disk full, permissions: may clear up
            raise TransientError(f"outbox: cannot write to {self.out_dir / folder}: {exc.strerror or exc}") from None

    def _write(self, folder: Path, delivery: Delivery, payload: dict) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        stem = file_stem(delivery, payload)
        if payload.get("channel") == "email":
            date = from_text(payload.get("created")) or datetime.now(UTC)
            msg = build_email(payload, FILE_SENDER, "undisclosed-recipients:;", message_id_for(delivery, FILE_SENDER),
                              date)
            _atomic_write(folder / f"{stem}.txt", (payload.get("text") or "").encode("utf-8"))
            _atomic_write(folder / f"{stem}.html", (payload.get("html") or "").encode("utf-8"))
            main = folder / f"{stem}.eml"
            _atomic_write(main, msg.as_bytes())
        else:
            main = folder / f"{stem}.{'html' if payload.get('channel') == 'telegram' else 'txt'}"
            _atomic_write(main, (payload.get("text") or "").encode("utf-8"))
        return str(main)


def file_stem(delivery: Delivery, payload: dict) -> str:
    """'20261123T080000Z-000007-digest-2026-11-23': sorts by time, then enqueue order."""
    created = from_text(payload.get("created"))
    key = delivery.key.removeprefix(delivery.kind + ":")
    parts = [
        created.strftime("%Y%m%dT%H%M%SZ") if created else "",
        f"{delivery.id:06d}" if delivery.id is not None else "",
        delivery.kind,
        re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-"),
    ]
    return "-".join(p for p in parts if p)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
