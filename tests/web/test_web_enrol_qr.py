"""The TOTP enrolment page shows the setup link as a scannable QR code (462.5.1)."""

from __future__ import annotations

import base64
import re
from html import unescape
from urllib.parse import parse_qs, unquote, urlsplit

import cv2
import numpy as np
import pyotp
from flask.testing import FlaskClient
from sqlalchemy import Engine
from tests_web_helpers import Auth

from controller.accounts import sessions
from controller.store import users as user_repo

PW = "Correct-Horse-Battery-9"
QR_IMG = re.compile(r'<img class="totp-qr" id="totp-qr" src="data:image/png;base64,([^"]+)"')


def _decode(page: str) -> str:
    """Decode the page's QR image with OpenCV's detector (not the library that drew it)."""
    match = QR_IMG.search(page)
    assert match, "enrolment page has no inline QR image"
    png = np.frombuffer(base64.b64decode(match.group(1)), dtype=np.uint8)
    image = cv2.imdecode(png, cv2.IMREAD_GRAYSCALE)
    assert image is not None
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert points is not None and text, "no QR code found in the image"
    return str(text)


def test_enrol_page_qr_code_scans_to_the_setup_link(auth: Auth, client: FlaskClient,
                                                    engine: Engine) -> None:
    auth.make_user("ann.lee", "officer", enrolled=False)
    auth.post("/login", {"username": "ann.lee", "password": PW, "banner_ack": "yes"})
    response = client.get("/login/enrol")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "img-src 'self' data:" in response.headers["Content-Security-Policy"]

    scanned = _decode(page)
    secret = sessions.totp_secret(engine, dict(user_repo.get(engine, "ann.lee")))
    link = urlsplit(scanned)
    assert (link.scheme, link.netloc) == ("otpauth", "totp")
    assert unquote(link.path) == "/Sightline:ann.lee"
    query = parse_qs(link.query)
    assert query["secret"] == [secret] and query["issuer"] == ["Sightline"]
    # The same link is on the page as text, and the key for manual entry.
    assert unescape(re.search(r'id="totp-uri">([^<]+)<', page).group(1)) == scanned  # type: ignore[union-attr]
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page

    # An authenticator that scanned the code signs in with it.
    scanned_secret = query["secret"][0]
    done = auth.post("/login/enrol", {"code": pyotp.TOTP(scanned_secret).now()})
    assert done.status_code == 302
    assert user_repo.get(engine, "ann.lee")["totp_enrolled"] is True
