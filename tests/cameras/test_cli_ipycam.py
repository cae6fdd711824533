"""The three camera commands against ipycam, each run in-process inside the namespace."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from camera_peers import TestCamera, call_in_netns
from cli_runner import sightline
from click.testing import Result

pytestmark = pytest.mark.netns


def run_cli(ns: str, *args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> Result:
    """``sightline ARGS`` in-process, on a thread inside namespace ``ns`` (its sockets too)."""
    environment = {**os.environ, **(env or {})}
    return call_in_netns(ns, lambda: sightline(environment, *args), timeout)


def last_json(result: Result) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_discover_json(camera: TestCamera) -> None:
    found = last_json(run_cli(camera.ns, "discover", "--interface", "127.0.0.1",
                              "--cidr", "127.0.0.1/32", "--timeout", "1.5", "--json"))
    assert [d["xaddrs"] for d in found] == [[f"http://{camera.host}/onvif/device_service"]]
    assert any(s.endswith(f"/name/{camera.name}") for s in found[0]["scopes"])


def test_discover_refuses_a_bad_range(netns: str) -> None:
    result = run_cli(netns, "discover", "--cidr", "300.1.2.0/24", "--timeout", "0.2")
    assert result.exit_code == 2 and "300.1.2.0/24" in result.stderr


def test_probe_json_and_failures(camera: TestCamera) -> None:
    probe = last_json(run_cli(camera.ns, "camera", "probe", camera.host,
                              "--username", camera.username, "--json",
                              env={"SIGHTLINE_CAMERA_PASSWORD": camera.password}))
    assert (probe["manufacturer"], probe["model"]) == ("PythonCam", "VirtualCam-1")
    assert probe["firmware"] and len(probe["profiles"]) == 2
    assert probe["stream_uri"] == camera.rtsp_url
    assert probe["snapshot_uri"].startswith(f"http://{camera.host}/")
    assert abs(probe["clock_drift_seconds"]) < 2

    wrong = run_cli(camera.ns, "camera", "probe", camera.host, "--username", camera.username,
                    "--password", "wrong")
    assert wrong.exit_code != 0
    assert "credentials refused" in wrong.stderr and camera.host in wrong.stderr
    nobody = run_cli(camera.ns, "camera", "probe", "127.0.0.1:9", "--username", "u",
                     "--password", "p")
    assert nobody.exit_code != 0 and "127.0.0.1:9" in nobody.stderr


def test_watch_json(camera: TestCamera) -> None:
    report = last_json(run_cli(camera.ns, "camera", "watch", camera.rtsp_url,
                               "--seconds", "4", "--json"))
    assert report["codec"] == "h264"
    assert (report["width"], report["height"]) == (camera.width, camera.height)
    assert report["fps"] >= 0.85 * camera.fps
    assert report["frames"] >= 3 * camera.fps
    assert 0 < report["first_frame_seconds"] < 10

    missing = run_cli(camera.ns, "camera", "watch", camera.rtsp_url.replace("main", "nope"),
                      "--seconds", "1", "--wait", "2")
    assert missing.exit_code != 0 and "404" in missing.stderr
