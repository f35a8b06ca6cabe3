"""The five seed documents: one story; 000 (spun) and 002 (WordPress mirror) one copy group."""

from __future__ import annotations

import json

import pytest

from dedup.cluster_file import cluster_file

pytestmark = pytest.mark.seeds


def test_seed_answer(seeds_dir, tmp_path):
    from bench.datasets import load_seeds

    rows = load_seeds(seeds_dir)
    assert [r["id"] for r in rows] == ["000", "001", "002", "003", "004"]
    src = tmp_path / "seeds.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert cluster_file(src, out) == 5
    got = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert len({r["story"] for r in got.values()}) == 1, got
    assert got["000"]["copy_group"] == got["002"]["copy_group"]
    others = {got[i]["copy_group"] for i in ("001", "003", "004")}
    assert got["000"]["copy_group"] not in others and len(others) == 3
    assert got["000"]["original"] in {"000", "002"}
