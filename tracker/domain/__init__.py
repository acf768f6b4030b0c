"""Pure domain: statuses, actions, changes and entry-into-force rules (stdlib only)."""
