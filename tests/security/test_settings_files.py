"""L8: settings YAML with alias expansion bounded, a size limit, and errors naming the file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.errors import ConfigError
from controller.settings.loader import (
    MAX_EXPANDED_NODES,
    YamlTooLarge,
    load_settings,
    load_yaml_bounded,
)


def bomb(levels: int, fan: int) -> str:
    """The "billion laughs": each level repeats the one before ``fan`` times."""
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]")
    lines.append(f"web: {{host: *a{levels - 1}}}")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(9, 9))
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"bomb\.yaml: refused: aliases expand"):
        load_settings(path, env={})
    assert time.monotonic() - started < 2.0


def test_config_check_refuses_the_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(9, 9))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGHTLINE_")}
    run = subprocess.run([sys.executable, "-m", "controller", "--config", str(path), "config",
                          "check"], env=env, capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 2
    assert f"{path}: refused: aliases expand the document" in run.stderr


def test_a_self_referring_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("web: &w {host: *w}\n")
    with pytest.raises(ConfigError, match=r"loop\.yaml: refused: an alias refers"):
        load_settings(path, env={})


def test_an_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("# " + "x" * (2 << 20) + "\n")
    with pytest.raises(ConfigError, match=r"huge\.yaml: larger than 1024 KiB"):
        load_settings(path, env={})


def test_deep_nesting_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("web: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"deep\.yaml"):
        load_settings(path, env={})


def test_ordinary_aliases_still_work(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("search:\n  purposes: &p [Missing person, Homeland security]\n"
                    "x-unused: *p\n")
    with pytest.raises(ConfigError, match="x-unused: unknown key"):
        load_settings(path, env={})  # parsed; only the unknown key is refused
    path.write_text("search:\n  purposes: &p [Missing person]\n")
    assert load_settings(path, env={}).search.purposes == ("Missing person",)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=2, max_value=12), st.integers(min_value=2, max_value=12))
def test_expansion_is_bounded_whatever_the_shape(levels: int, fan: int) -> None:
    text = bomb(levels, fan)
    expanded = sum(fan ** i for i in range(levels))  # lists only; a rough lower bound
    started = time.monotonic()
    try:
        load_yaml_bounded(text)
    except YamlTooLarge:
        assert expanded > MAX_EXPANDED_NODES // 4
    else:
        assert expanded <= MAX_EXPANDED_NODES
    assert time.monotonic() - started < 1.0


def test_a_provisioning_file_alias_bomb_is_refused_naming_the_file() -> None:
    from controller.errors import ValidationError
    from controller.operations import provision

    with pytest.raises(ValidationError, match=r"sites\.yaml") as info:
        provision.parse(bomb(9, 9), "sites.yaml")
    assert "expand" in str(info.value)
