"""Tolerant WS-Discovery parsing and ONVIF error translation, without a network."""

from __future__ import annotations

import pytest
import zeep.exceptions

from cameras.errors import (
    CameraAuthError,
    CameraError,
    CameraMalformedReply,
    CameraNoH264Profile,
    CameraUnreachable,
)
from cameras.onvif.device import choose_profile, translate_error
from cameras.onvif.discovery import merge, parse_reply, probe_message, split_scopes, sweep_targets
from cameras.onvif.models import MediaProfile

ENV = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Body>{body}</s:Body></s:Envelope>'
)
MATCH = (
    "<d:{tag}><a:EndpointReference><a:Address>urn:uuid:cam-1</a:Address></a:EndpointReference>"
    "<d:Types>dn:NetworkVideoTransmitter</d:Types>"
    "<d:Scopes>onvif://www.onvif.org/name/Pole%2017 onvif://www.onvif.org/hardware/AXIS-Q1700 "
    "onvif://www.onvif.org/location/city/Springfield onvif://www.onvif.org/location/Main_St</d:Scopes>"
    "<d:XAddrs>http://10.1.2.3/onvif/device_service http://[fe80::1]/onvif/device_service</d:XAddrs>"
    "</d:{tag}>"
)


@pytest.mark.parametrize(
    "body",
    [
        "<d:ProbeMatches>" + MATCH.format(tag="ProbeMatch") + "</d:ProbeMatches>",
        MATCH.format(tag="ProbeMatch"),  # no ProbeMatches wrapper (ipycam)
        MATCH.format(tag="Hello"),
    ],
)
def test_probe_matches_with_or_without_wrapper(body: str) -> None:
    [device] = parse_reply(ENV.format(body=body).encode(), "10.1.2.3")
    assert device.endpoint == "urn:uuid:cam-1"
    assert device.xaddrs[0] == "http://10.1.2.3/onvif/device_service"
    assert device.name == "Pole 17" and device.hardware == "AXIS-Q1700"
    assert device.location == "city/Springfield, Main_St"


def test_broken_xml_still_yields_the_fields() -> None:
    text = MATCH.format(tag="ProbeMatch").replace("<d:Types>", "<d:Types><unclosed>")
    [device] = parse_reply(text.encode(), "10.1.2.3")
    assert device.xaddrs[0].startswith("http://10.1.2.3")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage \xff\xfe",
        ENV.format(body="<d:Probe/>").encode(),  # someone else's probe, not an answer
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
    ],
)
def test_non_answers_are_ignored(data: bytes) -> None:
    assert parse_reply(data, "10.0.0.9") == []


def test_scopes_with_raw_spaces_are_rejoined() -> None:
    scopes = split_scopes("onvif://www.onvif.org/name/Test Cam 2 onvif://www.onvif.org/type/x")
    assert scopes == ("onvif://www.onvif.org/name/Test Cam 2", "onvif://www.onvif.org/type/x")


def test_merge_and_probe_message() -> None:
    body = MATCH.format(tag="ProbeMatch")
    devices = parse_reply(body.encode(), "10.1.2.3") * 2
    assert len(merge(devices)) == 1
    message = probe_message("abc").decode()
    assert "urn:uuid:abc" in message and "NetworkVideoTransmitter" in message


def test_sweep_targets() -> None:
    assert sweep_targets(["10.0.0.0/30", "10.0.1.7/32"], 100) == ["10.0.0.1", "10.0.0.2",
                                                                    "10.0.1.7"]
    with pytest.raises(ValueError, match="more than 100"):
        sweep_targets(["10.0.0.0/24"], 100)
    with pytest.raises(ValueError, match="'nonsense'"):
        sweep_targets(["nonsense"], 100)


PROFILES = (
    MediaProfile("sub", "Sub", "H264", 640, 360),
    MediaProfile("h265", "Main", "H265", 3840, 2160),
    MediaProfile("main", "Main", "H264", 1920, 1080),
    MediaProfile("mjpeg", "Jpeg", "JPEG", 1920, 1080),
)


def test_choose_profile() -> None:
    assert choose_profile("cam", PROFILES, None).token == "main"
    assert choose_profile("cam", PROFILES, "sub").token == "sub"
    with pytest.raises(CameraError, match="no media profile with token 'x'"):
        choose_profile("cam", PROFILES, "x")
    with pytest.raises(CameraNoH264Profile, match="mjpeg=JPEG"):
        choose_profile("cam", PROFILES[3:], None)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (zeep.exceptions.Fault("Sender not authorized"), CameraAuthError),
        (zeep.exceptions.Fault("x", code="s:Sender", subcodes=["ter:NotAuthorized"]),
         CameraAuthError),
        (zeep.exceptions.TransportError(status_code=401), CameraAuthError),
        (zeep.exceptions.TransportError(status_code=500), CameraMalformedReply),
        (zeep.exceptions.XMLSyntaxError("bad"), CameraMalformedReply),
        (ConnectionRefusedError(111, "refused"), CameraUnreachable),
        (TimeoutError(), CameraUnreachable),
    ],
)
def test_library_errors_are_translated(exc: Exception, expected: type[CameraError]) -> None:
    err = translate_error("cam-7", "GetProfiles", exc)
    assert type(err) is expected
    assert err.camera == "cam-7" and "GetProfiles" in str(err)


def test_other_faults_stay_plain_camera_errors() -> None:
    err = translate_error("cam-7", "GetStreamUri", zeep.exceptions.Fault("ActionNotSupported"))
    assert type(err) is CameraError and "ActionNotSupported" in str(err)
