"""Hotlists (import, governance, matching) and dispatch (outbox, signed webhooks, MQTT)."""
