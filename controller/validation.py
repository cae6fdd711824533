"""Checks on text that comes from outside (forms, the CLI, the API), one rule each.

Every free-text field the policy keeps (a case number, a court, a reason) is
required and bounded in length (DESIGN.md section 8); the error names the field.
"""

from __future__ import annotations

from controller.errors import ValidationError


def required_text(field: str, value: str, limit: int) -> str:
    """Return ``value`` stripped; raise ValidationError naming ``field`` if empty or too long."""
    value = value.strip()
    if not value:
        raise ValidationError(field, "is required")
    if len(value) > limit:
        raise ValidationError(field, f"is longer than {limit} characters")
    return value


def optional_text(field: str, value: str, limit: int) -> str | None:
    """Return ``value`` stripped, or None when empty; raise ValidationError if too long."""
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(field, f"is longer than {limit} characters")
    return value or None
