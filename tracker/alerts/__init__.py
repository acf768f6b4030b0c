"""Alerts: subscriptions, the delivery outbox, the dispatcher and its channels."""
