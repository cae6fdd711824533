"""Security settings: CJIS password, lockout, session and training rules (462.5.x, 462.13)."""

from __future__ import annotations

from pydantic import Field

from controller.settings.base import Section


class SecuritySettings(Section):
    """Login, password and session rules; the defaults are the CJIS minimums."""

    password_min_length: int = Field(
        default=8, ge=8, title="Minimum password length",
        description="Shortest password accepted with the banned-password check (CJIS: 8).",
    )
    passphrase_length: int = Field(
        default=20, ge=20, title="Passphrase length",
        description=("Passphrase length suggested to users (CJIS: 20). Passphrases are "
                     "checked like every password: banned list, username, repeats."),
    )
    password_history: int = Field(
        default=10, ge=10, title="Password history",
        description="How many previous passwords may not be reused (CJIS: 10).",
    )
    password_max_age_days: int = Field(
        default=365, ge=1, title="Password expiry",
        description="Days after which a password must be changed.",
    )
    lockout_attempts: int = Field(
        default=5, ge=1, le=5, title="Lockout attempts",
        description=("Failed logins in a row from one client address that lock the account "
                     "for that address (CJIS: at most 5)."),
    )
    lockout_minutes: int = Field(
        default=10, ge=10, title="Lockout duration",
        description="Minutes an account stays locked (CJIS: at least 10).",
    )
    lockout_ceiling: int = Field(
        # 50 = ten addresses' worth of CJIS lockouts: a stranger needs ten addresses
        # before the owner is locked out, and a guesser spread over any number of
        # addresses still gets at most 50 passwords per lockout period (then the TOTP).
        default=50, ge=5, le=500, title="Account lockout ceiling",
        description=("Failed logins from all addresses together that lock the account for "
                     "everyone (lockout_minutes); a successful login restarts the count."),
    )
    idle_timeout_minutes: int = Field(
        default=30, ge=1, le=30, title="Idle session lock",
        description="Minutes of inactivity after which a session is locked (CJIS: 30).",
    )
    cli_token_minutes: int = Field(
        default=30, ge=1, le=720, title="Command-line sign-in lifetime",
        description=("Minutes a `sightline login` token stays valid; it is not renewed by "
                     "use, and `sightline logout` ends it sooner."),
    )
    training_valid_days: int = Field(
        default=365, ge=1, title="Training validity",
        description="Days a recorded ALPR training stays current (462.4.1).",
    )
    dormant_days: int = Field(
        default=90, ge=1, le=90, title="Unused account suspension",
        description=("Days without a sign-in after which an account is suspended until an "
                     "administrator reinstates it (462.4; State Auditor 2019-118: 90)."),
    )
    totp_issuer: str = Field(
        default="Sightline", min_length=1, title="TOTP issuer",
        description="Issuer name shown in authenticator apps.",
    )
