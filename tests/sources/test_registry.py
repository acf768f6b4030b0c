"""The source registry: one spec per slug, and every loop over sources goes through it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tracker.settings import ConfigError, Settings
from tracker.sources import SOURCES, PageRejected, parse, registry
from tracker.sources.registry import Registry, Source, UnknownSource


def _reject(body: bytes, **_: object) -> None:
    raise PageRejected("fake source: no page is valid")


def _fake(slug: str = "fake", prefix: str = "fake:") -> Source:
    def check(treaty_id: str) -> None:
        if not treaty_id.isdigit():
            raise ValueError(f"not a {slug} id: {treaty_id!r}")

    return Source(
        slug=slug,
        title="A fake depositary",
        parse=_reject,
        check_id=check,
        sort_key=int,
        default_base_url="http://127.0.0.1:9",
        spider=f"spiders.{slug}",
        id_prefix=prefix,
    )


def test_untc_and_wipo_are_registered_and_sources_are_their_slugs():
    assert SOURCES == registry.slugs() == ("untc", "wipo")
    untc = registry.get("untc")
    assert (untc.slug, untc.spider, untc.id_prefix) == ("untc", "spiders.untc", "")
    assert untc.default_base_url == "https://treaties.un.org"


def test_an_unknown_slug_is_a_clear_error():
    with pytest.raises(UnknownSource) as raised:
        registry.get("nosuch")
    assert str(raised.value) == "unknown source 'nosuch'; known: untc, wipo"
    with pytest.raises(KeyError, match="unknown source 'nosuch'; known: untc, wipo"):
        parse("nosuch", b"<html/>", url="file:///x")


def test_ids_are_checked_and_ordered_by_their_source():
    with pytest.raises(ValueError, match="not an MTDSG treaty number"):
        registry.check_id("untc", "no-such-id")
    registry.check_id("untc", "XXVI-9")
    with registry.registered(_fake()):
        ids = ["fake:10", "IV-11", "fake:9", "XXVI-9", "IV-4"]
        assert sorted(ids, key=registry.sort_key) == [
            "IV-4",
            "IV-11",
            "XXVI-9",
            "fake:9",
            "fake:10",
        ]


def test_public_ids_are_unique_across_sources():
    with registry.registered(_fake()):
        assert registry.public_id("untc", "XXVI-9") == "XXVI-9"  # UNTC's ids are the public ones
        assert registry.public_id("fake", "9") == "fake:9"
        untc, own = registry.split_id("XXVI-9")
        assert (untc.slug, own) == ("untc", "XXVI-9")
        fake, own = registry.split_id("fake:9")
        assert (fake.slug, own) == ("fake", "9")
    with pytest.raises(ValueError, match="id prefix"):
        Registry((registry.get("untc"), _fake(prefix="")))
    with pytest.raises(ValueError, match="registered twice"):
        Registry((registry.get("untc"), replace(registry.get("untc"), id_prefix="u:")))


def test_base_urls_come_from_the_settings_else_the_spec():
    with registry.registered(_fake()):
        assert registry.base_urls(Settings()) == {
            "untc": "https://treaties.un.org",
            "wipo": "https://www.wipo.int",
            "fake": "http://127.0.0.1:9",
        }
        given = Settings.from_env({"TRACKER_BASE_URLS": '{"fake": "http://127.0.0.1:8/"}'})
        assert registry.base_url(given, "fake") == "http://127.0.0.1:8"
    alias = Settings.from_env({"TRACKER_UNTC_BASE_URL": "http://127.0.0.1:7/"})
    assert registry.base_url(alias, "untc") == "http://127.0.0.1:7"  # the kept variable
    both = Settings.from_env(
        {
            "TRACKER_UNTC_BASE_URL": "http://127.0.0.1:7",
            "TRACKER_BASE_URLS": '{"untc": "http://127.0.0.1:6"}',
        }
    )
    assert registry.base_url(both, "untc") == "http://127.0.0.1:6"
    unknown = Settings.from_env({"TRACKER_BASE_URLS": '{"nosuch": "http://127.0.0.1:6"}'})
    with pytest.raises(ConfigError, match="TRACKER_BASE_URLS: unknown source 'nosuch'"):
        registry.base_urls(unknown)


def test_crawl_and_ingest_choices_come_from_the_registry(capsys):
    from tracker.cli.commands import build_parser

    def choices(command: str) -> list[str]:
        sub = next(a for a in build_parser()._actions if a.dest == "command")
        action = next(a for a in sub.choices[command]._actions if a.dest == "source")
        return list(action.choices)

    assert choices("crawl") == choices("ingest") == ["untc", "wipo"]
    with registry.registered(_fake()):
        assert choices("crawl") == choices("ingest") == ["untc", "wipo", "fake"]


def test_the_scheduler_has_one_crawl_job_per_registered_source(settings):
    from tracker.runtime.scheduler import build_scheduler

    def crawl_jobs() -> dict[str, tuple[object, ...]]:
        jobs = build_scheduler(settings).get_jobs()
        return {j.id: j.args for j in jobs if j.id.startswith("crawl:")}

    both = {"crawl:untc": (settings, "untc"), "crawl:wipo": (settings, "wipo")}
    assert crawl_jobs() == both
    with registry.registered(_fake()):
        assert crawl_jobs() == {**both, "crawl:fake": (settings, "fake")}


def test_spider_modules_are_the_registered_spiders():
    import spiders.settings

    assert [s.spider for s in registry.all_sources()] == spiders.settings.SPIDER_MODULES
    from scrapy.settings import Settings as ScrapySettings
    from scrapy.spiderloader import SpiderLoader

    loader = SpiderLoader.from_settings(ScrapySettings({"SPIDER_MODULES": ["spiders.untc"]}))
    assert loader.list() == ["untc"]
