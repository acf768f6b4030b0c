"""The project's own Scrapy signal (sent with `crawler.signals.send_catch_log`)."""

# Ingestion decided what a fetched page is: sent by the pipeline with `cache_key` (the
# response's key in spiders.httpcache, or None) and `outcome` (accepted, unchanged, quarantined
# or failed). The HTTP cache stores the response only for accepted and unchanged pages.
page_settled = object()
