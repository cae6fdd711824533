"""Load settings from a YAML file and the environment, with one clear error message."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
import yaml

from controller.errors import ConfigError
from controller.settings import Settings

DEFAULT_CONFIG = Path("config/sightline.yaml")
ENV_CONFIG = "SIGHTLINE_CONFIG"
ENV_DATA_DIR = "SIGHTLINE_DATA_DIR"
ENV_DATABASE_URL = "SIGHTLINE_DATABASE_URL"


def config_path(explicit: str | Path | None, env: Mapping[str, str] | None = None) -> Path | None:
    """Pick the settings file: the explicit one, then SIGHTLINE_CONFIG, then the default.

    The default file is optional (built-in defaults apply when it is absent); a file
    named explicitly or through the environment must exist.
    """
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def _format_location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "(top level)"


def _format_errors(source: str, exc: pydantic.ValidationError) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        # Union members add their type name to the location; drop those for humans.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        where = _format_location(loc)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (not a Sightline setting)"
        elif err["type"] != "missing" and "input" in err:
            message = f"{message} (got {err['input']!r})"
        lines.append(f"{source}: {where}: {message}")
    return "\n".join(lines)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: invalid YAML: {where}{problem}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: (top level): expected a mapping of settings")
    return raw


def settings_from_mapping(
    raw: Mapping[str, Any], source: str, env: Mapping[str, str] | None = None
) -> Settings:
    """Validate a settings mapping, applying environment overrides; name the field on error."""
    env = os.environ if env is None else env
    data: dict[str, Any] = dict(raw)
    if env.get(ENV_DATA_DIR):
        data["data_dir"] = env[ENV_DATA_DIR]
    if env.get(ENV_DATABASE_URL):
        database = data.get("database")
        database = dict(database) if isinstance(database, Mapping) else {}
        database["url"] = env[ENV_DATABASE_URL]
        data["database"] = database
    try:
        return Settings.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ConfigError(_format_errors(source, exc)) from None


def load_settings(
    path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Load the settings file chosen by :func:`config_path`, or the built-in defaults."""
    chosen = config_path(path, env)
    if chosen is None:
        return settings_from_mapping({}, "(built-in defaults)", env)
    return settings_from_mapping(_read_yaml(chosen), str(chosen), env)
