"""Prometheus metrics of one Sightline process, kept in its own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    """The process's metrics; one instance per controller so tests never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.controller_running = Gauge(
            "sightline_controller_running", "1 while the controller loop runs",
            registry=self.registry)
        self.database_up = Gauge(
            "sightline_database_up", "1 when the last database check succeeded",
            registry=self.registry)
        self.http_requests = Counter(
            "sightline_http_requests", "HTTP requests served",
            ["endpoint", "status"], registry=self.registry)
        self.audit_events = Counter(
            "sightline_audit_events", "Audit events written by this process",
            ["action", "outcome"], registry=self.registry)
        self.deliveries = Counter(
            "sightline_hit_deliveries", "Hit delivery attempts by sink and outcome",
            ["sink", "outcome"], registry=self.registry)
        self.reads_stored = Counter(
            "sightline_reads_stored", "Reads written to the database", registry=self.registry)
        self.hits_created = Counter(
            "sightline_hits_created", "Hits created", registry=self.registry)
        self.reads_spooled = Counter(
            "sightline_reads_spooled", "Reads spooled while the database was unavailable",
            registry=self.registry)
