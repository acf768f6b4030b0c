"""Use cases over the database: ingest, queries, rules. Dependencies are arguments."""
