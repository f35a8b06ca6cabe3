"""The archive end to end: fixture world → crawl → dedup → digest → archive, opened in headless Chromium.

Chromium renders the story page (phone width) and the email the outbox wrote; the test
checks the rendered DOM (the timeline picture, every outlet, Chinese intact) and keeps
the screenshots as artifacts: under the pytest tmp dir, and in $DISTILLWATCH_ARTIFACTS
when that is set (CI uploads it; the README's images come from the same run).
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import struct
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import html as lxml_html

from bot.archive import build_archive
from digests.select import select_stories
from distillwatch.demo import run_demo
from storage import open_db
from storage.records import utcnow

TOPIC = "AI model distillation disputes"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("headless Chromium not found (Debian: apt-get install chromium chromium-driver); "
                "the page tests need a real browser")


def run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, timeout=120, check=False)


def screenshot(page: Path, png: Path, profile: Path, width: int = 412, height: int = 1400) -> Path:
    result = run_chromium([f"--screenshot={png}", f"--window-size={width},{height}", page.as_uri()], profile)
    assert png.is_file(), result.stderr.decode("utf-8", "replace")[-2000:]
    keep_artifact(png)
    return png


def dump_dom(page: Path, profile: Path):
    result = run_chromium(["--dump-dom", page.as_uri()], profile)
    assert result.returncode == 0 and result.stdout, result.stderr.decode("utf-8", "replace")[-2000:]
    return lxml_html.fromstring(result.stdout)


def keep_artifact(path: Path) -> None:
    folder = os.environ.get("DISTILLWATCH_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(folder) / path.name)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One demo cycle (real crawler on loopback, outbox into files), then the archive of its database."""
    out = tmp_path_factory.mktemp("archive-e2e")
    result = asyncio.run(run_demo(out / "demo", stream=io.StringIO()))
    assert result.exit_code == 0
    db = open_db(result.db_path)
    report = build_archive(db, out / "site", TOPIC, ZoneInfo("Europe/Berlin"),
                           base_url="https://news.example.org/distillwatch/", now=utcnow())
    return out, db, report


def test_the_demo_world_builds_a_complete_archive(built):
    out, db, report = built
    assert report.stories >= 2 and report.days >= 1
    stories = select_stories(db, EPOCH)
    for story in stories:
        assert (out / "site" / "stories" / f"{story.id}.html").is_file()
    assert (out / "site" / "feeds" / "digests.atom").is_file() and (out / "site" / "index.html").is_file()


def test_chromium_renders_the_story_page_with_its_timeline_and_every_outlet(built, tmp_path):
    out, db, _ = built
    story = max(select_stories(db, EPOCH), key=lambda s: len(s.members))
    page = out / "site" / "stories" / f"{story.id}.html"
    dom = dump_dom(page, tmp_path / "profile-dom")
    [svg] = dom.xpath("//svg[contains(@class, 'timeline')]")
    assert len(svg.xpath(".//g[contains(concat(' ', @class, ' '), ' mark ')]")) == len(story.members)
    shown = {o.text_content() for o in dom.xpath("//li[@class='member']//strong[@class='outlet']")}
    assert shown == {m.outlet for m in story.members}
    assert any("亚洲科技" in name for name in shown)  # the Chinese outlet's name survived every step
    assert dom.xpath("//p[contains(@class, 'original')]//strong")[0].text_content() == story.outlet

    png = screenshot(page, tmp_path / "story-page.png", tmp_path / "profile-shot")
    assert png_size(png) == (412, 1400) and png.stat().st_size > 20_000  # a real picture, not a blank page


def test_chromium_renders_the_email_the_outbox_wrote(built, tmp_path):
    out, _, _ = built
    [html] = sorted((out / "demo" / "email").glob("*.html"))
    dom = dump_dom(html, tmp_path / "profile-dom")
    assert dom.xpath("//td[@class='story']") and dom.xpath("//meta[@name='color-scheme']")
    png = screenshot(html, tmp_path / "email-digest.png", tmp_path / "profile-shot", width=640, height=900)
    assert png_size(png) == (640, 900) and png.stat().st_size > 20_000
