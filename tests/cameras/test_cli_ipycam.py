"""The three camera commands against ipycam, each run as a process inside the namespace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from camera_peers import TestCamera

pytestmark = pytest.mark.netns
ROOT = Path(__file__).resolve().parents[2]


def run_cli(ns: str, *args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``ip netns exec NS sightline ARGS`` (as ``python -m controller``) from the repo root."""
    return subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "controller", *args],
        check=False, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def last_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_discover_json(camera: TestCamera) -> None:
    found = last_json(run_cli(camera.ns, "discover", "--interface", "127.0.0.1",
                              "--cidr", "127.0.0.1/32", "--timeout", "1.5", "--json"))
    assert [d["xaddrs"] for d in found] == [[f"http://{camera.host}/onvif/device_service"]]
    assert any(s.endswith(f"/name/{camera.name}") for s in found[0]["scopes"])


def test_discover_refuses_a_bad_range(netns: str) -> None:
    result = run_cli(netns, "discover", "--cidr", "300.1.2.0/24", "--timeout", "0.2")
    assert result.returncode == 2 and "300.1.2.0/24" in result.stderr


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
    assert wrong.returncode != 0
    assert "credentials refused" in wrong.stderr and camera.host in wrong.stderr
    nobody = run_cli(camera.ns, "camera", "probe", "127.0.0.1:9", "--username", "u",
                     "--password", "p")
    assert nobody.returncode != 0 and "127.0.0.1:9" in nobody.stderr


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
    assert missing.returncode != 0 and "404" in missing.stderr
