"""The Scrapy project: where to go (navigation) and hand-off to ingestion. No parsing, no SQL here."""
