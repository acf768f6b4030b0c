"""Retry with exponential backoff: Scrapy's RetryMiddleware re-sends at once; this one waits."""

from __future__ import annotations

import asyncio
import random

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.settings import BaseSettings


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry like Scrapy does, but the n-th retry waits base * 2**(n-1) seconds (with jitter)."""

    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 120.0)

    def _retry(self, request: Request, reason: object) -> Request | None:  # type: ignore[override]
        retry = super()._retry(request, reason)  # type: ignore[arg-type]
        if retry is not None:
            attempt = int(retry.meta.get("retry_times", 1))
            delay = min(self.cap, self.base * 2 ** (attempt - 1))
            retry.meta["backoff_delay"] = delay * random.uniform(0.8, 1.2)
        return retry

    async def process_request(self, request: Request) -> None:
        delay = request.meta.pop("backoff_delay", None)
        if delay:
            await asyncio.sleep(delay)
