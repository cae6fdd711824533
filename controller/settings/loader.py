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
# A settings file is a few kilobytes; these bounds keep a hostile one (an alias bomb,
# "billion laughs") from taking minutes and gigabytes before validation can refuse it.
MAX_FILE_BYTES = 1 << 20
MAX_EXPANDED_NODES = 100_000


class YamlTooLarge(yaml.YAMLError):
    """The document would expand past MAX_EXPANDED_NODES (or refers to itself)."""


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    # Each node is sized once (memoised), so the walk is linear in the file, while the
    # size counts every repetition an alias makes.
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise YamlTooLarge("an alias refers to the node that contains it")
    open_nodes.add(key)
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, sizes, open_nodes) + _expanded_size(v, sizes, open_nodes)
                    for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, sizes, open_nodes) for item in node.value)
    open_nodes.discard(key)
    if size > MAX_EXPANDED_NODES:
        raise YamlTooLarge(f"aliases expand the document past {MAX_EXPANDED_NODES} values")
    sizes[key] = size
    return size


class BoundedSafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses documents whose aliases expand past a bound."""

    def compose_document(self) -> yaml.Node | None:
        """Compose as usual, then measure the document with every alias expanded."""
        node: yaml.Node | None = super().compose_document()
        if node is not None:
            _expanded_size(node, {}, set())
        return node


def load_yaml_bounded(text: str) -> Any:
    """Parse one YAML document safely, with alias expansion bounded."""
    return yaml.load(text, Loader=BoundedSafeLoader)  # noqa: S506 (a SafeLoader subclass)


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
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB; "
                              "this is not a settings file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        raw = load_yaml_bounded(text)
    except YamlTooLarge as exc:
        raise ConfigError(f"{path}: refused: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: refused: nested too deeply") from None
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
