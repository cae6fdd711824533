"""Prometheus metrics of one Sightline process, kept in its own registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

HealthSource = Callable[[], tuple[list[dict[str, Any]], list[dict[str, Any]]]]


@dataclass(frozen=True)
class OwnedCamera:
    """A camera this node holds the lease of (``controller.capture.ownership``)."""

    camera_id: int
    name: str
    site: str
    epoch: int
    expires_at: datetime


@dataclass(frozen=True)
class NodeReport:
    """What this node runs now, by its own account: the cameras whose pipelines run
    here and the leases it holds (none on SQLite)."""

    running: tuple[int, ...] = ()
    leases: tuple[OwnedCamera, ...] = ()


NodeSource = Callable[[], NodeReport]


class HealthCollector(Collector):
    """Camera and cabinet health, read at scrape time from the running controller."""

    def __init__(self) -> None:
        self.source: HealthSource | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge family per health figure, labelled by camera or site."""
        cameras, cabinets = self.source() if self.source else ([], [])
        labels = ["camera", "site"]
        up = GaugeMetricFamily("sightline_camera_up", "1 while the camera streams", labels=labels)
        fps = GaugeMetricFamily("sightline_camera_fps", "Frames per second received",
                                labels=labels)
        reads = GaugeMetricFamily("sightline_camera_reads", "Reads since start", labels=labels)
        restarts = GaugeMetricFamily("sightline_camera_restarts", "Pipeline restarts",
                                     labels=labels)
        for cam in cameras:
            key = [cam["name"], cam["site"]]
            up.add_metric(key, 1.0 if cam["state"] == "running" else 0.0)
            fps.add_metric(key, float(cam["fps"]))
            reads.add_metric(key, float(cam["reads"]))
            restarts.add_metric(key, float(cam["restarts"]))
        door = GaugeMetricFamily("sightline_cabinet_door_open", "1 while a cabinet door is open",
                                 labels=["site"])
        for cabinet in cabinets:
            door.add_metric([cabinet["site"]], 1.0 if cabinet["door_open"] else 0.0)
        yield from (up, fps, reads, restarts, door)


class Metrics:
    """The process's metrics; one instance per controller so tests never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.health = HealthCollector()
        self.registry.register(self.health)
        # What this node runs, for /healthz (set by the runtime once cameras start).
        self.node: NodeSource = NodeReport
        self.controller_running = Gauge(
            "sightline_controller_running", "1 while the controller loop runs",
            registry=self.registry)
        self.database_up = Gauge(
            "sightline_database_up", "1 when the last database check succeeded",
            registry=self.registry)
        self.audit_reviews_overdue = Gauge(
            "sightline_audit_reviews_overdue",
            "Quarters whose audit package is built but whose review is overdue (policy 462.6)",
            registry=self.registry)
        # Hotlist feeds (462.7), set at scrape time from each feed's status record.
        self.feed_ok = Gauge(
            "sightline_feed_ok", "1 when the feed's last fetch succeeded", ["feed"],
            registry=self.registry)
        self.feed_stale = Gauge(
            "sightline_feed_stale", "1 when the feed's list is older than its schedule allows",
            ["feed"], registry=self.registry)
        self.feed_age = Gauge(
            "sightline_feed_age_seconds", "Seconds since the feed's last good fetch (-1: never)",
            ["feed"], registry=self.registry)
        self.feed_entries = Gauge(
            "sightline_feed_entries", "Entries of the feed's list in force", ["feed"],
            registry=self.registry)
        self.feed_rejected = Gauge(
            "sightline_feed_rejected_lines", "Lines the feed's last fetch rejected", ["feed"],
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
