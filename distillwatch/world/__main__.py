"""`python -m distillwatch.world`: serve the fixture world on loopback and print its URLs until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from datetime import datetime

from distillwatch.world.server import World, start_world


def _print(world: World, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "sources": world.sources(),
                    "articles": [
                        {
                            **vars(a),
                            "published": a.published.isoformat(),
                            "stated_published": a.stated_published.isoformat(),
                        }
                        for a in world.expected()
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    print(f"distillwatch fixture world, now = {world.now.isoformat()}")
    for o in world.outlets.values():
        print(f"  {o.key:9} {o.name:30} {o.kind:9} p{o.priority}  {o.source_url}")
    print("articles (newest first):")
    for a in world.expected():
        tag = f"{a.relation or '-'}:{a.copy_group}"
        print(f"  {a.published:%H:%M} {a.outlet:9} {'on ' if a.on_topic else 'off'} {tag:34} {a.url}")
    print("Ctrl-C to stop.", flush=True)


async def _serve(args: argparse.Namespace) -> None:
    now = datetime.fromisoformat(args.now) if args.now else None
    world = await start_world(now, args.host, base_port=args.base_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:  # our own handlers: Ctrl-C and `kill` both close the servers cleanly
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows or not the main thread
            pass
    try:
        _print(world, args.json)
        sys.stdout.flush()
        await stop.wait()
    finally:
        await world.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m distillwatch.world", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--base-port", type=int, default=0, help="first port; outlets take consecutive ports")
    parser.add_argument("--now", help="ISO time with offset the article ages count back from (default: now)")
    parser.add_argument("--json", action="store_true", help="print sources and ground truth as JSON")
    args = parser.parse_args(argv)
    if args.now and datetime.fromisoformat(args.now).tzinfo is None:
        parser.error("--now needs a UTC offset, e.g. 2026-06-26T12:00:00+00:00")
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"world: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
