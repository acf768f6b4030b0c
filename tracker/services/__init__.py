"""Use cases over the database: ingest, queries. They own the transaction; dependencies are arguments."""
