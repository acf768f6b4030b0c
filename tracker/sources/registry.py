"""The registry of depositary sources: one `Source` spec per slug, and the look-ups over them.

A `Source` says everything the rest of the tracker needs to know about one depositary: its
parser (a pure function of the fetched bytes), the grammar of its footnotes (withdrawals and
predecessors' instruments, read in its own words), how its treaty ids are checked and ordered, the
ids people see (`public_id`: unique across sources), its default base URL, the Scrapy spider
that walks it (a module path: the tracker never imports Scrapy) and its per-source Scrapy
settings. Everything that loops over sources loops over
`all_sources()`: the crawl command, the scheduler's crawl jobs, the settings' base URLs, health,
the catalogue and the API's filters.

Adding a depositary: a folder `tracker/sources/<slug>/` whose `spec.py` builds its `Source`,
and one line in `_SPECS` below (docs/adding-a-source.md has the whole checklist).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from tracker.domain.footnotes import SILENT, FootnoteGrammar

if TYPE_CHECKING:
    from tracker.domain.models import TreatyStatus
    from tracker.settings import Settings

# One line per source: the module whose `SOURCE` is its spec (imported on first use).
_SPECS: tuple[str, ...] = ("tracker.sources.untc.spec", "tracker.sources.wipo.spec")


class UnknownSource(KeyError):
    """A slug no registered source has (the message names the known ones)."""

    def __init__(self, slug: str, known: tuple[str, ...]) -> None:
        super().__init__(slug)
        self.slug = slug
        self.message = f"unknown source {slug!r}; known: {', '.join(known) or 'none'}"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Source:
    """One depositary, as the tracker knows it."""

    slug: str  # lower-case, stable: stored in the database, in URLs and file names
    title: str
    # bytes -> TreatyStatus, or PageRejected: parse(body, url=, expected_treaty=, content_type=)
    parse: Callable[..., TreatyStatus]
    # Raises ValueError (with a message for people) on an id that cannot be this source's.
    check_id: Callable[[str], object]
    # Orders this source's ids (the catalogue's, the lists'); ids of one source only.
    sort_key: Callable[[str], Any]
    default_base_url: str
    spider: str  # the Scrapy spider's module (spiders.<slug>); its `name` is the slug
    # Public ids are `<id_prefix><id>`; at most one source has the empty prefix (untc: its ids,
    # e.g. XXVI-9, are the public ones). The others take e.g. "WIPO-" (WIPO-843).
    id_prefix: str = ""
    # Per-source Scrapy settings, on top of spiders/settings.py for this source's crawls.
    spider_settings: Mapping[str, Any] = field(default_factory=dict)
    # How its footnotes word withdrawals and predecessors' instruments (tracker.domain.footnotes;
    # SILENT: its pages carry none the tracker reads).
    footnotes: FootnoteGrammar = SILENT
    # The formats its status pages come in, the crawl's default first (`tracker crawl --format`);
    # `page_format(body, url)` says which one a fetched page is (None: the only one). A treaty's
    # history comes from one format, that of its first snapshot; a page of another format is a
    # cross-check (tracker.services.format_check).
    formats: tuple[str, ...] = ("html",)
    page_format: Callable[[bytes, str], str] | None = None

    def format_of(self, body: bytes, url: str) -> str:
        """The format of a fetched page of this source (one of `formats`)."""
        return self.page_format(body, url) if self.page_format else self.formats[0]

    def public_id(self, external_id: str) -> str:
        """The id people see and type: unique across sources."""
        return self.id_prefix + external_id


class Registry:
    """The registered sources, in registration order (the order of lists and crawls)."""

    def __init__(self, specs: tuple[Source, ...]) -> None:
        slugs = [s.slug for s in specs]
        if len(set(slugs)) != len(slugs):
            raise ValueError(f"a slug is registered twice: {slugs}")
        prefixes = [s.id_prefix for s in specs]
        if len(set(prefixes)) != len(prefixes):
            raise ValueError(f"two sources share an id prefix: {prefixes}")
        self._by_slug = {s.slug: s for s in specs}

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(self._by_slug)

    def all(self) -> tuple[Source, ...]:
        return tuple(self._by_slug.values())

    def get(self, slug: str) -> Source:
        try:
            return self._by_slug[slug]
        except KeyError:
            raise UnknownSource(slug, self.slugs) from None

    def split_id(self, public: str) -> tuple[Source, str] | None:
        """The source and its own id of a public id (None when no source can have it)."""
        # The prefix in any case ("wipo-843" as typed in a URL is WIPO-843).
        folded = public.casefold()
        prefixed = [
            s for s in self.all() if s.id_prefix and folded.startswith(s.id_prefix.casefold())
        ]
        if prefixed:
            source = max(prefixed, key=lambda s: len(s.id_prefix))
            return source, public[len(source.id_prefix) :]
        plain = [s for s in self.all() if not s.id_prefix]
        return (plain[0], public) if plain else None


@cache
def _default() -> Registry:
    return Registry(tuple(importlib.import_module(path).SOURCE for path in _SPECS))


_override: list[Registry] = []


def registry() -> Registry:
    """The registry in use (the registered specs; a test may put another in place)."""
    return _override[-1] if _override else _default()


@contextmanager
def registered(*specs: Source) -> Iterator[Registry]:
    """Tests: the registered sources with `specs` on top (one of the same slug is replaced, in
    its place; the others come last), for the duration of the block."""
    given = {s.slug: s for s in specs}
    kept = tuple(given.pop(s.slug, s) for s in registry().all())
    found = Registry(kept + tuple(given.values()))
    _override.append(found)
    try:
        yield found
    finally:
        _override.remove(found)


def all_sources() -> tuple[Source, ...]:
    return registry().all()


def slugs() -> tuple[str, ...]:
    return registry().slugs


def get(slug: str) -> Source:
    """The spec of `slug` (UnknownSource, naming the known ones, if none)."""
    return registry().get(slug)


def footnotes(slug: str) -> FootnoteGrammar:
    """The footnote grammar of `slug` (UnknownSource if none)."""
    return get(slug).footnotes


def public_id(slug: str, external_id: str) -> str:
    """The id people see for treaty `external_id` of source `slug`."""
    return get(slug).public_id(external_id)


def split_id(public: str) -> tuple[Source, str] | None:
    return registry().split_id(public)


def check_id(slug: str, treaty_id: str) -> None:
    """ValueError (the source's message) when `treaty_id` cannot be an id of `slug`."""
    get(slug).check_id(treaty_id)


def sort_key(public: str) -> tuple[Any, ...]:
    """Order public ids: by source (registration order), then by the source's own order."""
    found = split_id(public)
    if found is None:
        return (len(slugs()), public)
    source, own = found
    return (slugs().index(source.slug), source.sort_key(own))


def base_url(settings: Settings, slug: str) -> str:
    """Where the spider of `slug` goes: TRACKER_BASE_URLS[slug], else a kept per-source
    variable (TRACKER_UNTC_BASE_URL: the settings' `untc_base_url`), else the spec's default."""
    found = settings.base_urls.get(slug) or getattr(settings, f"{slug}_base_url", None)
    return (found or get(slug).default_base_url).rstrip("/")


def base_urls(settings: Settings) -> dict[str, str]:
    """Every source's base URL; a configured slug no source has is a ConfigError."""
    from tracker.settings import ConfigError, env_name

    for slug in settings.base_urls:
        try:
            get(slug)
        except UnknownSource as unknown:
            raise ConfigError(f"{env_name('base_urls')}: {unknown}") from None
    return {s.slug: base_url(settings, s.slug) for s in all_sources()}
