"""Adopting a camera: probed over ONVIF, stored with its password sealed, audited."""

from __future__ import annotations

from cli_runner import sightline, signed_in
from integration_peers import camera_peer
from sqlalchemy import Engine

from controller.store import audit as audit_repo
from controller.store import sites


def test_adopt_stores_the_probed_camera_and_refuses_a_wrong_password(
        engine: Engine, cli_env: dict[str, str]) -> None:
    cli_env = signed_in(cli_env, "val.vendor", "vendor")  # vendors install cameras (462.4)
    with camera_peer(["7ABC123"], username="installer", password="Cam-Pass-1") as peer:
        added = sightline(cli_env, "site", "add", "HWY99-N", "--name", "Hwy 99 north",
                          "--lat", "32.95", "--lon", "-115.62")
        assert added.exit_code == 0, added.stderr
        host = f"127.0.0.1:{peer.onvif_port}"
        wrong = sightline(cli_env, "camera", "adopt", host, "--site", "HWY99-N", "--name",
                          "NB 1", "--username", "installer", "--password", "guess")
        assert wrong.exit_code != 0
        assert "camera 127.0.0.1" in wrong.stderr and "auth" in wrong.stderr.lower()
        assert sites.list_cameras(engine) == []
        ok = sightline(cli_env, "camera", "adopt", host, "--site", "HWY99-N", "--name", "NB 1",
                       "--username", "installer", "--password", "Cam-Pass-1")
        assert ok.exit_code == 0, ok.stderr
    (camera,) = sites.list_cameras(engine)
    assert camera["stream_uri"].startswith("rtsp://127.0.0.1:")
    assert camera["manufacturer"] == "PythonCam" and camera["site_code"] == "HWY99-N"
    assert camera["secret"] and "Cam-Pass-1" not in camera["secret"]
    event = audit_repo.search(engine, action="camera.adopt")[0]
    assert event["data"]["stream_uri"] == camera["stream_uri"]
    assert audit_repo.search(engine, action="site.add")[0]["data"]["site"] == "HWY99-N"
