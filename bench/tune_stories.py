"""Choose the story thresholds on data: a grid over ECB+ odd topics (dev), checked on ECB+
even topics (held out) and NewsWCL50 (held out); `python -m bench.tune_stories`.

Runs the real engine (bench.eval_dedup.run_engine) with `DedupSettings` overrides. The
chosen values are the defaults in dedup/settings.py; this script only reproduces the choice
(27 settings, ~8 minutes). Pick the best "dev"; read "ecb_heldout" and "newswcl50" only as
checks. Dev and held-out halves are each replayed as their own stream.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace

from bench.datasets import load_ecbplus, load_newswcl50
from bench.metrics import bcubed


def run(rows: list[dict], settings) -> dict:
    import bench.eval_dedup as ev

    got, _ = ev.run_engine(rows, settings=settings)
    gold = {r["id"]: r["gold"] for r in rows}
    return bcubed({k: v[1] for k, v in got.items()}, gold)


def main(argv: list[str] | None = None) -> int:
    from dedup.settings import DedupSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", default="story_threshold=0.125,0.15,0.175;story_split_ratio=0.65,0.7,0.75;"
                        "story_merge_ratio=0.8,0.85,0.9",
                        help="name=v1,v2;name=... over DedupSettings fields (default: the grid that chose)")
    args = parser.parse_args(argv)
    ecb = load_ecbplus()
    dev = [r for r in ecb if r["topic"] % 2 == 1]
    held = [r for r in ecb if r["topic"] % 2 == 0]
    wcl = load_newswcl50()
    axes = []
    for part in args.grid.split(";"):
        name, values = part.split("=")
        axes.append([(name, type(getattr(DedupSettings(), name))(v)) for v in values.split(",")])
    rows = []
    for combo in itertools.product(*axes):
        settings = replace(DedupSettings(), **dict(combo))
        r = {"settings": dict(combo), "dev": run(dev, settings)["f1"], "ecb_heldout": run(held, settings)["f1"],
             "newswcl50": run(wcl, settings)["f1"]}
        rows.append(r)
        print(json.dumps(r), flush=True)
    best = max(rows, key=lambda r: r["dev"])
    print("best on dev:", json.dumps(best))
    return 0


if __name__ == "__main__":
    sys.exit(main())
