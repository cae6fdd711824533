"""The single-frame grab for cameras without a snapshot URI: bounded, and its errors
never carry the camera's credentials (FFmpeg names the URL it failed on)."""

from __future__ import annotations

import pytest
from camera_peers import free_tcp_port

from cameras.errors import StreamError
from cameras.still import grab_frame, with_credentials


def test_credentials_go_into_an_rtsp_uri_that_has_none() -> None:
    assert with_credentials("rtsp://10.0.0.5:554/main", "ops", "p@ss:1") == \
        "rtsp://ops:p%40ss%3A1@10.0.0.5:554/main"
    assert with_credentials("rtsp://me:x@10.0.0.5/main", "ops", "y") == "rtsp://me:x@10.0.0.5/main"
    assert with_credentials("http://10.0.0.5/main", "ops", "y") == "http://10.0.0.5/main"


def test_a_failed_grab_never_shows_the_password() -> None:
    port = free_tcp_port()  # nothing listens there: the connection is refused at once
    url = with_credentials(f"rtsp://127.0.0.1:{port}/video_main", "ops", "S3cret-pw")
    with pytest.raises(StreamError) as failure:
        grab_frame(url, camera="NB lane 1", timeout=3)
    message = str(failure.value)
    assert "could not open the stream" in message and f"127.0.0.1:{port}" in message
    assert "S3cret-pw" not in message and "ops" not in message
