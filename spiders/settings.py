"""Flat Scrapy settings, derived from the tracker's one configuration (`Settings.from_env()`)."""

from tracker.settings import Settings
from tracker.sources.registry import all_sources, base_urls

_settings = Settings.from_env()

BOT_NAME = "treaty-tracker"
# Each registered source's spider (tracker.sources.registry: `Source.spider`, named by its slug).
SPIDER_MODULES = [source.spider for source in all_sources()]
NEWSPIDER_MODULE = "spiders"

# Politeness.
ROBOTSTXT_OBEY = True
USER_AGENT = _settings.user_agent
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = _settings.concurrent_requests_per_domain
DOWNLOAD_DELAY = _settings.download_delay
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% around DOWNLOAD_DELAY
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = max(_settings.download_delay, 0.0)
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = _settings.autothrottle_target_concurrency
DOWNLOAD_TIMEOUT = _settings.download_timeout
DOWNLOAD_MAXSIZE = _settings.max_response_size
DOWNLOAD_WARNSIZE = _settings.max_response_size // 2
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy's remote control runs Python code sent over HTTP and leaves a job file (with its token)
# in ~/.local/state/scrapy when the crawl is killed: not in a tracker.
REMOTE_CONTROL_ENABLED = False

# Retries with exponential backoff (replaces Scrapy's immediate retry); a 429 / 503 with
# Retry-After waits what the server asked, up to RETRY_AFTER_MAX (above it: given up at once).
RETRY_ENABLED = True
RETRY_TIMES = _settings.retry_times
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 120.0
RETRY_AFTER_MAX = _settings.retry_after_max
# Redirects: a loop, a redirect to another host or more than REDIRECT_MAX_TIMES fail the page
# with their reason (spiders.middlewares.GuardedRedirectMiddleware). A <meta refresh> is not
# followed: the page goes to ingestion as it is (and is quarantined if it is not a status page).
REDIRECT_MAX_TIMES = 5
METAREFRESH_ENABLED = False
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.BackoffRetryMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "spiders.middlewares.GuardedRedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "spiders.httpcache.TrackerHttpCacheMiddleware": 900,
}

# An unchanged page costs one conditional request: responses are cached on disk and
# revalidated on every crawl (If-None-Match / If-Modified-Since; the cached body is reused
# only on a 304 Not Modified that names the cached ETag, never in place of an error or a
# timeout). A response is stored only once ingestion accepted its page or found it unchanged.
HTTPCACHE_ENABLED = _settings.http_cache
HTTPCACHE_POLICY = "spiders.httpcache.RevalidatingPolicy"
HTTPCACHE_STORAGE = "spiders.httpcache.TrackerCacheStorage"
HTTPCACHE_DIR = str(_settings.http_cache_dir.resolve())
HTTPCACHE_IGNORE_HTTP_CODES = [500, 502, 503, 504, 408, 429]
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
}

# Links are followed by what they are (index, chapter, status page), never by depth, and no
# Referer is sent (a depositary learns nothing from it; an unchanged page's request costs less
# without either middleware's pass over every response's output).
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
}

ITEM_PIPELINES = {"spiders.pipelines.IngestPipeline": 300}
# The items of one response processed at once. A response yields one item here (a page, a
# catalogue page or a failed fetch: spiders.base) and the pipeline stores one page at a time, so
# more buys nothing, while Scrapy starts this many tasks for every response's output (the
# default 100 cost about 1 ms a response; pages still overlap across responses).
CONCURRENT_ITEMS = 1
# The crawl stops itself when the process that started it is gone (enabled by tracker/crawl.py).
# AutoThrottle reads a 304 Not Modified as a success, as it reads a 200 (spiders.throttle: with
# Scrapy's own, a crawl of unchanged pages could only ever slow down). The doorbell wakes the
# parent's dispatcher when an ingest committed deliveries.
EXTENSIONS = {
    "spiders.lifeline.Lifeline": 100,
    "spiders.doorbell.Doorbell": 110,
    # Log records below every handler's level are not built (Scrapy leaves the root at NOTSET).
    "spiders.loglevel.RootLogLevel": 120,
    "scrapy.extensions.throttle.AutoThrottle": None,
    "spiders.throttle.NotModifiedAwareAutoThrottle": 0,
}

LOG_LEVEL = _settings.log_level
# JSON logs (`tracker run`): spiders/child.py has installed the one root handler.
LOG_INSTALL_ROOT_HANDLER = _settings.log_format != "json"
FEED_EXPORT_ENCODING = "utf-8"

# Where each source's spider goes, by slug (spiders.base.SourceSpider.base_url).
BASE_URLS = base_urls(_settings)
