"""The audit viewer: filters by user, action, plate and date; shows the chain's state."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, text

from controller import audit


def test_filters_and_chain_status(auth, client, engine: Engine) -> None:
    audit.record(engine, audit.AuditEvent(actor="ann.lee", action="search.exact",
                                          plate="7ABC123", purpose="Missing person",
                                          case_number="26-1"),
                 at=datetime(2026, 3, 4, 10, 0, tzinfo=UTC))
    audit.record(engine, audit.AuditEvent(actor="bob.ray", action="search.exact",
                                          plate="8XYZ999", purpose="Missing person"),
                 at=datetime(2026, 3, 5, 10, 0, tzinfo=UTC))
    auth.make_user("chief.ray", "administrator")  # after March: the log is in time order
    auth.login("chief.ray")
    auth.state_purpose("Audit of system use (462.6)", "2026Q1")
    page = client.get("/audit").get_data(as_text=True)
    assert "Hash chain intact" in page and "7ABC123" in page and "8XYZ999" in page
    by_plate = client.get("/audit?plate=7abc-123").get_data(as_text=True)
    assert "7ABC123" in by_plate and "8XYZ999" not in by_plate
    by_user = client.get("/audit?actor=bob.ray&action=search.exact").get_data(as_text=True)
    assert "8XYZ999" in by_user and "7ABC123" not in by_user
    by_day = client.get("/audit?since=2026-03-04&until=2026-03-04").get_data(as_text=True)
    assert "7ABC123" in by_day and "8XYZ999" not in by_day
    bad = client.get("/audit?since=March")
    assert bad.status_code == 400 and "From: enter a date" in bad.get_data(as_text=True)


def test_broken_chain_is_shown(auth, client, engine: Engine) -> None:
    auth.make_user("chief.ray", "administrator")
    auth.login("chief.ray")
    auth.state_purpose("Audit of system use (462.6)", "2026Q1")
    audit.record(engine, audit.AuditEvent(actor="ann.lee", action="search.exact",
                                          plate="7ABC123"))
    # Someone with database access rewrites history behind the application's back.
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
        else:
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        conn.execute(text("UPDATE audit_events SET plate = '0THER00' WHERE plate = '7ABC123'"))
    page = client.get("/audit").get_data(as_text=True)
    assert "Hash chain BROKEN" in page and "content does not match its hash" in page


def test_a_missing_anchor_is_shown_on_the_page(app, auth, client, engine: Engine) -> None:
    from controller.audit.anchors import anchor_file

    settings = app.config["SIGHTLINE_SETTINGS"]
    auth.make_user("chief.ray", "administrator")
    auth.login("chief.ray")
    auth.state_purpose("Audit of system use (462.6)", "2026Q1")
    audit.write_anchor(engine, settings)
    audit.write_anchor(engine, settings)
    assert "Hash chain intact" in client.get("/audit").get_data(as_text=True)
    # An insider cuts the last anchor line: the database alone would still verify.
    path = anchor_file(audit.anchor_dir(settings))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))
    assert audit.verify(engine).ok
    page = client.get("/audit").get_data(as_text=True)
    assert "Hash chain BROKEN" in page
