"""Secrets kept in the database sealed with the instance key (SIGHTLINE_SECRET_KEY).

Camera passwords and TOTP secrets are encrypted with Fernet keys derived from the
instance secret, one key per purpose (a label), so a copy of the database alone
does not give them away and one purpose's key opens nothing of another's. The
audit chain's HMAC key is derived from the same secret with its own label
(:func:`derive_key`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from controller.errors import ValidationError

CAMERA_LABEL = b"sightline camera credentials"
TOTP_LABEL = b"sightline totp secrets"
# Fernet tokens are base64url of a version byte 0x80: they all begin with this.
FERNET_PREFIX = "gAAAAA"


# Instance secrets bound to engines by processes that know their settings (the command).
# Keyed by the store's engine objects, held as opaque handles: this module sits below the
# store (DESIGN.md section 4) and never looks inside them.
_BOUND: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()
# What decides the default instance secret: the same environment gives the same one.
_DEFAULT_INPUTS = ("SIGHTLINE_SECRET_KEY", "SIGHTLINE_DATA_DIR", "SIGHTLINE_CONFIG")


# The instance secret of a whole-process command (run, demo) for engines nobody bound.
_PROCESS: list[str] = []


def bind_instance_secret(engine: object, secret_key: str) -> None:
    """Seal and key what is stored through ``engine`` with ``secret_key``."""
    _BOUND[engine] = secret_key


@contextmanager
def process_instance_secret(secret_key: str) -> Iterator[None]:
    """While the block runs, engines nobody bound use ``secret_key`` (``sightline run``
    and the demo: the controller makes its engine from the command's settings)."""
    _PROCESS.append(secret_key)
    try:
        yield
    finally:
        _PROCESS.pop()


ENV_SECRET_KEY = "SIGHTLINE_SECRET_KEY"  # noqa: S105 (a variable name, not a secret)


def instance_secret(data_dir: Path) -> str:
    """Return the instance secret: SIGHTLINE_SECRET_KEY, else a key file kept in data_dir."""
    if os.environ.get(ENV_SECRET_KEY):
        return os.environ[ENV_SECRET_KEY]
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Create with owner-only permissions from the start: never world-readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


@lru_cache(maxsize=8)
def _default_secret(_inputs: tuple[str | None, ...]) -> str:
    # Imported here: the settings loader and the composition root import far more.
    from controller.settings.loader import load_settings
    return instance_secret(load_settings().data_dir)


def instance_secret_for(engine: object) -> str:
    """The instance secret for data stored through ``engine``.

    The one bound to it (the command binds its settings'), else the running
    command's (:func:`process_instance_secret`), else the process's:
    ``SIGHTLINE_SECRET_KEY``, or the owner-only key file in the data directory
    of the settings the environment selects.
    """
    bound = _BOUND.get(engine)
    if bound is not None:
        return bound
    if _PROCESS:
        return _PROCESS[-1]
    return _default_secret((*(os.environ.get(n) for n in _DEFAULT_INPUTS), os.getcwd()))


def _fernet(secret_key: str, label: bytes = CAMERA_LABEL) -> Fernet:
    # A key of its own per purpose, derived from the instance secret.
    digest = hashlib.sha256(label + b"\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@lru_cache(maxsize=32)
def derive_key(secret_key: str, label: bytes) -> bytes:
    """A 32-byte key for one purpose (``label``), derived from the instance secret (HKDF)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=label).derive(secret_key.encode())


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


def seal_totp(secret_key: str, totp_secret: str) -> str:
    """Encrypt a user's TOTP secret (base32) for storage."""
    return _fernet(secret_key, TOTP_LABEL).encrypt(totp_secret.encode()).decode("ascii")


def is_sealed(value: str) -> bool:
    """Tell a sealed secret from a plain base32 one stored before secrets were sealed."""
    # Base32 has no lower-case letters, so a plain secret never starts like a token.
    return value.startswith(FERNET_PREFIX)


def unseal_totp(secret_key: str, stored: str) -> str:
    """The TOTP secret from its stored form (sealed, or plain base32 from before sealing)."""
    if not is_sealed(stored):
        return stored
    try:
        return _fernet(secret_key, TOTP_LABEL).decrypt(stored.encode("ascii")).decode()
    except InvalidToken:
        raise ValidationError("totp", "the second-factor secret was sealed with another "
                                      "instance key (SIGHTLINE_SECRET_KEY)") from None
