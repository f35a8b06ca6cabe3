"""Thin commands: parse arguments, call one function, turn errors into exit codes.

Exit codes: 0 success, 1 runtime failure (network, storage, delivery), 2 bad usage or config.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from distillwatch.config import Config, ConfigError, load_config, resolve_config_path, write_default_config
from storage import StorageError
from storage.records import SOURCE_KINDS

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _config(args: argparse.Namespace) -> Config:
    config = load_config(resolve_config_path(args.config))
    if getattr(args, "db", None):
        from dataclasses import replace

        config = replace(config, storage_path=Path(args.db))
    return config


def cmd_init(args: argparse.Namespace) -> int:
    """Write the embedded default config to a file for editing."""
    path = write_default_config(Path(args.path), force=args.force)
    print(f"wrote {path}; edit it, then run: distillwatch --config {path} crawl")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the config and say what it would do."""
    config = _config(args)
    kinds: dict[str, int] = {}
    for source in config.sources:
        kinds[source.kind] = kinds.get(source.kind, 0) + 1
    print(f"config: {config.origin}: ok")
    print(f"  sources: {len(config.sources)} (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")")
    print(f"  topic: {config.topic.name} ({len(config.topic.rules)} rules)")
    print(f"  database: {config.storage_path}")
    telegram = config.telegram.channel if config.telegram.enabled and config.secrets.telegram_token else "local outbox"
    email = ", ".join(config.email.recipients) if config.email.enabled else "local outbox"
    print(f"  telegram: {telegram}; email: {email}; outbox: {config.outbox_dir}")
    s, w = config.schedule, config.websub
    print(f"  polling: each source when due, every {s.min_interval}-{s.max_interval}s (new: {s.poll_interval}s); "
          f"due sources checked every {s.tick}s")
    push = f"callback {w.callback_url}, listening on {w.listen_host}:{w.listen_port}" if w.enabled else "off"
    print(f"  websub push: {push}")
    if config.telegram.enabled and not config.secrets.telegram_token:
        print("  note: [telegram] channel is set but TELEGRAM_BOT_TOKEN is not; posts go to the local outbox")
    return EXIT_OK


def cmd_crawl(args: argparse.Namespace) -> int:
    """One polling pass over the configured sources, then dedup."""
    from distillwatch.app import crawl_and_dedup, open_database

    config = _config(args)
    db = open_database(config)
    report = asyncio.run(crawl_and_dedup(config, db, quiet=args.quiet))
    c = report.crawl
    print(
        f"crawl: {c.sources_ok} sources ok, {c.sources_not_modified} unchanged, {c.sources_failed} failed; "
        f"{len(c.articles_new)} new articles, {c.articles_updated} updated, {c.off_topic} off topic; "
        f"{report.stories} stories, {report.copies_collapsed} copies collapsed; {report.seconds:.1f}s"
    )
    for error in report.errors:
        print(f"  {error}", file=sys.stderr)
    return EXIT_OK


def cmd_digest(args: argparse.Namespace) -> int:
    """Print the digest of the current period, or deliver it now."""
    from distillwatch.app import compose_digest, enqueue_digests, open_database, send_pending

    config = _config(args)
    db = open_database(config)
    if args.send:
        added = enqueue_digests(config, db)
        report = asyncio.run(send_pending(config, db))
        print(f"digest: {added} new deliveries enqueued; {report.summary()}")
        for error in report.errors:
            print(f"  {error}", file=sys.stderr)
        return EXIT_OK if not report.failed else EXIT_FAIL
    _, rendered = compose_digest(config, db, args.format)
    print(rendered.preview())
    if args.format == "email":
        from bot.email import DEFAULT_SENDER, write_email_preview

        eml, html = write_email_preview(rendered, config.outbox_dir / "preview",
                                        sender=config.email.sender or DEFAULT_SENDER)
        print(f"\ndigest: wrote {eml} (open in a mail client) and {html} (open in a browser)", file=sys.stderr)
    return EXIT_OK


def cmd_archive(args: argparse.Namespace) -> int:
    """Build the static archive: a page per digest day and per story, and Atom feeds."""
    from dataclasses import replace

    from distillwatch.app import build_site, open_database

    config = _config(args)
    if args.out or args.base_url is not None:
        config = replace(config, archive=replace(
            config.archive, dir=Path(args.out) if args.out else config.archive.dir,
            base_url=config.archive.base_url if args.base_url is None else args.base_url))
    if not config.archive.enabled:
        print("archive: no output folder: set [archive] dir or pass --out DIR", file=sys.stderr)
        return EXIT_USAGE
    report = build_site(config, open_database(config))
    assert report is not None
    print(report.summary())
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Every stored article with source, canonical URL, time, copy group, relation and story."""
    from distillwatch.app import export_articles, open_database

    config = _config(args)
    db = open_database(config)
    if args.output == "-":
        count = export_articles(db, sys.stdout, args.format)
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            count = export_articles(db, out, args.format)
    print(f"export: {count} articles", file=sys.stderr)
    return EXIT_OK


def _count(text: str) -> int:
    """A non-negative integer option; argparse prints the error as one usage line."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def cmd_cluster(args: argparse.Namespace) -> int:
    """Run the copy and story engine over a JSON-lines file of articles."""
    from dedup.cluster_file import cluster_file
    from dedup.gcquiet import quiet_gc

    with quiet_gc():  # the engine makes no reference cycles (dedup/gcquiet.py)
        count = cluster_file(Path(args.input), Path(args.output), Path(args.db) if args.db else None, args.workers)
    print(f"cluster: {count} articles assigned -> {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    """Say whether and why two stored articles share a copy group or story."""
    from dedup.explain import explain_pair
    from distillwatch.app import open_database

    config = _config(args)
    print(explain_pair(open_database(config), args.a, args.b))
    return EXIT_OK


def cmd_telegram_enable(args: argparse.Namespace) -> int:
    """Deliver to a Telegram chat again after the bot was re-added (a 403 had disabled it)."""
    from distillwatch.app import open_database
    from storage.records import utcnow
    from storage.telegram import enable_chat

    db = open_database(_config(args))
    if enable_chat(db, args.chat, utcnow()):
        print(f"telegram: {args.chat} enabled; alerts and digests go to it again")
        return EXIT_OK
    print(f"telegram: {args.chat} was not disabled", file=sys.stderr)
    return EXIT_FAIL


def cmd_sources(args: argparse.Namespace) -> int:
    """List the configured sources with their polling state (the default when no subcommand is given)."""
    from distillwatch.app import open_database
    from distillwatch.status import source_lines
    from storage.records import utcnow

    config = _config(args)
    db = open_database(config)
    for line in source_lines(config, db, utcnow()):
        print(line)
    print(f"sources: {len(config.sources)}", file=sys.stderr)
    return EXIT_OK


def cmd_sources_import(args: argparse.Namespace) -> int:
    """Read an OPML file; print the new sources as [[sources]] TOML, or append them to the config with --write."""
    from crawler.opml import new_sources, read_opml, sources_toml

    config = _config(args)
    items = new_sources(read_opml(Path(args.file).read_bytes()), config.sources)
    text = sources_toml(items)
    if args.write:
        target = resolve_config_path(args.config)
        if target is None:
            raise ConfigError("embedded default", ["sources import --write needs a config file (--config PATH "
                                                   "or run 'distillwatch init' first)"])
        load_config(target)  # refuse to append to a file that does not load now
        with target.open("a", encoding="utf-8") as out:
            out.write(f"\n# imported from {Path(args.file).name}\n{text}")
        load_config(target)  # and check it still loads with the new blocks
        print(f"sources import: {len(items)} new sources appended to {target}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        print(f"sources import: {len(items)} new sources (append them to your config, or pass --write)",
              file=sys.stderr)
    return EXIT_OK


def cmd_sources_export(args: argparse.Namespace) -> int:
    """Write the configured sources as OPML 2.0 (feeds readable by any feed reader)."""
    from crawler.opml import write_opml

    text = write_opml(_config(args).sources)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return EXIT_OK


def cmd_sources_test(args: argparse.Namespace) -> int:
    """Fetch one source once and print what it would store, without storing anything."""
    from crawler.schedule import PollPolicy
    from crawler.trial import format_trial, try_source
    from storage.records import Source

    config = _config(args)
    configured = {(s.kind, s.url): s for s in config.sources}
    source = configured.get((args.kind, args.url)) or Source(url=args.url, kind=args.kind,
                                                             link_selector=args.link_selector or "",
                                                             search=args.search or "")
    if source.kind == "html" and not source.link_selector:
        raise ConfigError("sources test", ["--link-selector is required for --kind html"])
    policy = PollPolicy(config.schedule.poll_interval, config.schedule.min_interval, config.schedule.max_interval)
    trial = asyncio.run(try_source(source, config.topic, config.network, policy))
    print(format_trial(trial))
    return EXIT_OK if trial.outcome in ("ok", "not_modified") else EXIT_FAIL


def cmd_explain_relevance(args: argparse.Namespace) -> int:
    """Say why the topic rules keep or drop an article: score, deciding rule, terms, every rule's trace."""
    from crawler.explain import ExplainError, explain_relevance
    from distillwatch.app import open_database

    config = _config(args)
    try:
        print(asyncio.run(explain_relevance(open_database(config), config.topic, config.network, args.ref)))
    except ExplainError as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """The whole product on a bundled fixture world on loopback: no tokens, no internet."""
    from distillwatch.demo import run_demo

    return asyncio.run(run_demo(Path(args.out))).exit_code


def cmd_run(args: argparse.Namespace) -> int:
    """Run the daemon: polling, the daily digest, outbox sending and housekeeping on a schedule.

    Holds a lock on the database (a second `run` exits 1). SIGTERM/SIGINT stop it cleanly,
    SIGHUP reloads the config file. With --once: one full cycle and exit, for cron.
    """
    from distillwatch.early_stop import EarlyStop

    early_stop = None if args.once else EarlyStop.install()  # before the imports, which take seconds
    from distillwatch.daemon import run_daemon, run_once

    config = _config(args)
    if args.once:
        return run_once(config, verbose=args.verbose)
    return run_daemon(config, loader=lambda: _config(args), verbose=args.verbose, early_stop=early_stop)


def cmd_status(args: argparse.Namespace) -> int:
    """Show source health, the last day's articles and stories, the outbox, the database and the daemon."""
    from distillwatch.status import status_report

    print(status_report(_config(args)))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="distillwatch",
        description="Track world coverage of one topic: crawl, deduplicate, cluster, deliver.",
    )
    parser.add_argument("--config", help="config file (default: $DISTILLWATCH_CONFIG, ./distillwatch.toml, "
                                         "else the embedded default)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (crawler warnings and info)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, fn: Callable[[argparse.Namespace], int], with_db: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=(fn.__doc__ or "").strip().splitlines()[0], description=fn.__doc__)
        p.set_defaults(func=fn)
        if with_db:
            p.add_argument("--db", help="database file (overrides [storage] path)")
        return p

    p = add("init", cmd_init)
    p.add_argument("path", nargs="?", default="distillwatch.toml")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    add("check", cmd_check)
    p = add("crawl", cmd_crawl, with_db=True)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p = add("digest", cmd_digest, with_db=True)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--preview", action="store_true", help="print the digest (default)")
    mode.add_argument("--send", action="store_true", help="deliver it now (Telegram, email, or the local outbox)")
    p.add_argument("--format", choices=["text", "telegram", "email"], default="text", help="which rendering to preview")
    p = add("archive", cmd_archive, with_db=True)
    p.add_argument("action", choices=["build"], help="what to do (build: write the site from the database)")
    p.add_argument("--out", help="folder to write the site to (overrides [archive] dir)")
    p.add_argument("--base-url", help="public URL of that folder (overrides [archive] base_url)")
    p = add("export", cmd_export, with_db=True)
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="output format")
    p.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
    p = add("cluster", cmd_cluster)
    p.add_argument("--input", required=True, help="articles, one JSON object per line")
    p.add_argument("--output", required=True, help="assignments, one JSON object per line")
    p.add_argument("--db", help="database to use (default: a fresh temporary one)")
    p.add_argument("--workers", type=_count, default=1,
                   help="processes that prepare article features ahead of the engine (0: all in this one; same output)")
    p = add("explain", cmd_explain, with_db=True)
    p.add_argument("a", help="article id")
    p.add_argument("b", help="article id")
    p = add("run", cmd_run, with_db=True)
    p.add_argument("--once", action="store_true", help="one full cycle (crawl, digest if due, send) and exit; for cron")
    add("status", cmd_status, with_db=True)
    p = add("telegram-enable", cmd_telegram_enable, with_db=True)
    p.add_argument("chat", help="the chat as configured or shown by status: @channel or a numeric id")
    p = add("sources", cmd_sources, with_db=True)
    sources = p.add_subparsers(dest="sources_command", metavar="SUBCOMMAND")

    def add_sub(name: str, fn: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        q = sources.add_parser(name, help=(fn.__doc__ or "").strip().splitlines()[0], description=fn.__doc__)
        q.set_defaults(func=fn)
        return q

    add_sub("list", cmd_sources).add_argument("--db", help="database file (overrides [storage] path)")
    q = add_sub("import", cmd_sources_import)
    q.add_argument("file", help="an OPML file (a feed reader's export)")
    q.add_argument("--write", action="store_true", help="append the new sources to the config file")
    q = add_sub("export", cmd_sources_export)
    q.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
    q = add_sub("test", cmd_sources_test)
    q.add_argument("url", help="the source URL (feed, sitemap, WordPress site root or section page)")
    q.add_argument("--kind", choices=list(SOURCE_KINDS), default="feed", help="source kind (default: feed)")
    q.add_argument("--link-selector", help="html sources: CSS selector of the article links")
    q.add_argument("--search", help="wordpress sources: the ?search= term")
    p = add("explain-relevance", cmd_explain_relevance, with_db=True)
    p.add_argument("ref", metavar="URL_OR_ID", help="a stored article's id or URL, or any article URL to fetch now")
    p = add("demo", cmd_demo)
    p.add_argument("--out", default="out", help="where the demo writes its database, outbox and digest")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except (StorageError, FileExistsError, FileNotFoundError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
