"""Secrets kept in the database sealed with the instance key (SIGHTLINE_SECRET_KEY).

Camera passwords are encrypted with a Fernet key derived from the instance secret,
so a copy of the database alone does not give them away.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from controller.errors import ValidationError


def _fernet(secret_key: str) -> Fernet:
    # A key of its own for camera passwords, derived from the instance secret.
    digest = hashlib.sha256(b"sightline camera credentials\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret_key: str, password: str) -> str:
    """Encrypt a camera password for storage."""
    return _fernet(secret_key).encrypt(password.encode()).decode("ascii")


def unseal(secret_key: str, token: str) -> str:
    """Decrypt a stored camera password; a wrong instance key is a clear error."""
    try:
        return _fernet(secret_key).decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise ValidationError("secret", "camera password was sealed with another instance "
                                        "key (SIGHTLINE_SECRET_KEY)") from None
