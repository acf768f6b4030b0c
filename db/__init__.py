"""Storage: SQLAlchemy models, engine and migrations. Imports nothing from tracker or spiders."""

from db.engine import make_engine, make_session_factory, session_factory_for

__all__ = ["make_engine", "make_session_factory", "session_factory_for"]
