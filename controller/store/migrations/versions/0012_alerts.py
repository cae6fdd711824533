"""Alerts for dispatch (issue 16, point 3): one open alert per plate per passage window.

- ``alerts``: the plate, state (open, acknowledged, verified, dismissed), the CLETS
  outcome, first and last sighting, the sighting count, the latest read (its images
  are the alert's), who acknowledged and who closed it, with the note or reason.
- ``alert_lists``: the hotlists whose entries the alert's hits matched.
- ``hits.alert_id``: the alert each hit joined.

The hits already stored are grouped by the rule the writer applies from now on
(``controller.store.alerts``): a plate's hits whose reads lie within the passage
window (10 minutes, the default of ``alerts.join_minutes``) of the previous one
are one alert. Such an alert is open while one of its hits is unverified, and
verified (with the latest outcome) otherwise.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from controller.store import types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
HIT_CHILDREN = ("deliveries", "hit_verifications")  # the tables that reference hits
WINDOW = timedelta(minutes=10)  # alerts.join_minutes' default when this migration shipped


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True,
                  comment="the CLETS outcome once verified"),
        sa.Column("first_seen_at", types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", types.UTCDateTime(), nullable=False),
        sa.Column("created_at", types.UTCDateTime(), nullable=False),
        sa.Column("sightings", sa.Integer(), nullable=False,
                  comment="reads of the plate that joined the alert"),
        sa.Column("last_read_id", _ID, nullable=True,
                  comment="the latest sighting: its crop and overview are the alert's images"),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", types.UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", types.UTCDateTime(), nullable=True),
        sa.Column("close_note", sa.String(length=500), nullable=True,
                  comment="the verification note or dismissal reason"),
        sa.CheckConstraint("state IN ('open', 'acknowledged', 'verified', 'dismissed')",
                           name=op.f("ck_alerts_state")),
        sa.ForeignKeyConstraint(["last_read_id"], ["reads.id"],
                                name=op.f("fk_alerts_last_read_id_reads"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_plate_last_seen_at", "alerts", ["plate", "last_seen_at"])
    op.create_index("ix_alerts_state_last_seen_at", "alerts", ["state", "last_seen_at"])
    op.create_table(
        "alert_lists",
        sa.Column("alert_id", _ID, nullable=False),
        sa.Column("list_name", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"],
                                name=op.f("fk_alert_lists_alert_id_alerts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("alert_id", "list_name", name=op.f("pk_alert_lists")),
    )
    op.create_index(op.f("ix_alert_lists_list_name"), "alert_lists", ["list_name"])
    column = sa.Column("alert_id", _ID, nullable=True,
                       comment="the dispatch alert this hit joined (schema.alerting)")
    if op.get_bind().dialect.name == "sqlite":
        with _hits_recreated() as batch_op:
            batch_op.add_column(column)
            batch_op.create_foreign_key("fk_hits_alert_id_alerts", "alerts", ["alert_id"],
                                        ["id"], ondelete="SET NULL")
    else:
        op.add_column("hits", column)
        op.create_foreign_key(op.f("fk_hits_alert_id_alerts"), "hits", "alerts",
                              ["alert_id"], ["id"], ondelete="SET NULL")
    op.create_index(op.f("ix_hits_alert_id"), "hits", ["alert_id"])
    _group_existing_hits()


@contextlib.contextmanager
def _hits_recreated() -> Iterator[Any]:
    """SQLite's batch mode for ``hits``: the table is copied and the old one dropped.

    Foreign keys stay on inside the migration's transaction, so dropping ``hits``
    would cascade to the rows that reference it: they are kept aside and put back.
    """
    for child in HIT_CHILDREN:
        op.execute(f"CREATE TEMP TABLE kept_{child} AS SELECT * FROM {child}")
    with op.batch_alter_table("hits", recreate="always") as batch_op:
        yield batch_op
    for child in HIT_CHILDREN:
        op.execute(f"DELETE FROM {child}")
        op.execute(f"INSERT INTO {child} SELECT * FROM kept_{child}")
        op.execute(f"DROP TABLE kept_{child}")


def _entry_list(entry: Any) -> str:
    data = json.loads(entry) if isinstance(entry, str) else (entry or {})
    return str(data.get("list") or "unknown")[:128]


def _group_existing_hits() -> None:
    """Give the hits already stored their alerts, by the rule the writer applies."""
    bind = op.get_bind()
    hits = sa.table("hits", sa.column("id", _ID), sa.column("read_id", _ID),
                    sa.column("entry", types.JSONText()), sa.column("verification", sa.String()),
                    sa.column("verified_by", sa.String()),
                    sa.column("verified_at", types.UTCDateTime()),
                    sa.column("verification_note", sa.String()))
    reads = sa.table("reads", sa.column("id", _ID), sa.column("plate", sa.String()),
                     sa.column("seen_at", types.UTCDateTime()))
    rows = bind.execute(sa.select(hits, reads.c.plate, reads.c.seen_at)
                        .join(reads, reads.c.id == hits.c.read_id)
                        .order_by(reads.c.plate, reads.c.seen_at, hits.c.id)).all()
    groups: list[list[Any]] = []
    for row in rows:
        last = groups[-1] if groups else None
        if last and last[0].plate == row.plate and row.seen_at - last[-1].seen_at <= WINDOW:
            last.append(row)
        else:
            groups.append([row])
    now = datetime.now(UTC)
    alerts = sa.table("alerts", sa.column("id", _ID), sa.column("plate", sa.String()),
                      sa.column("state", sa.String()), sa.column("outcome", sa.String()),
                      sa.column("first_seen_at", types.UTCDateTime()),
                      sa.column("last_seen_at", types.UTCDateTime()),
                      sa.column("created_at", types.UTCDateTime()),
                      sa.column("sightings", sa.Integer()), sa.column("last_read_id", _ID),
                      sa.column("closed_by", sa.String()),
                      sa.column("closed_at", types.UTCDateTime()),
                      sa.column("close_note", sa.String()))
    for hits_of in groups:
        verified = [h for h in hits_of if h.verification != "pending"]
        closed = verified[-1] if len(verified) == len(hits_of) else None
        alert_id: int = bind.execute(sa.insert(alerts).values(
            plate=hits_of[0].plate, first_seen_at=hits_of[0].seen_at,
            last_seen_at=hits_of[-1].seen_at, created_at=now,
            sightings=len({h.read_id for h in hits_of}), last_read_id=hits_of[-1].read_id,
            state="verified" if closed else "open",
            outcome=closed.verification if closed else None,
            closed_by=closed.verified_by if closed else None,
            closed_at=closed.verified_at if closed else None,
            close_note=closed.verification_note if closed else None,
        ).returning(alerts.c.id)).scalar_one()
        names = sorted({_entry_list(h.entry) for h in hits_of})
        bind.execute(sa.text("INSERT INTO alert_lists (alert_id, list_name) VALUES (:a, :n)"),
                     [{"a": alert_id, "n": n} for n in names])
        bind.execute(sa.text("UPDATE hits SET alert_id = :a WHERE id = :h"),
                     [{"a": alert_id, "h": h.id} for h in hits_of])


def downgrade() -> None:
    op.drop_index(op.f("ix_hits_alert_id"), table_name="hits")
    if op.get_bind().dialect.name == "sqlite":
        with _hits_recreated() as batch_op:
            batch_op.drop_constraint("fk_hits_alert_id_alerts", type_="foreignkey")
            batch_op.drop_column("alert_id")
    else:
        op.drop_constraint(op.f("fk_hits_alert_id_alerts"), "hits", type_="foreignkey")
        op.drop_column("hits", "alert_id")
    op.drop_index(op.f("ix_alert_lists_list_name"), table_name="alert_lists")
    op.drop_table("alert_lists")
    op.drop_index("ix_alerts_state_last_seen_at", table_name="alerts")
    op.drop_index("ix_alerts_plate_last_seen_at", table_name="alerts")
    op.drop_table("alerts")
