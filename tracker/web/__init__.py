"""HTTP: the JSON API, exports, Atom feeds, health and metrics, and the server-rendered dashboard."""
