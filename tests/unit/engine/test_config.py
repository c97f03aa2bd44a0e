from dataclasses import dataclass
from typing import Literal

import pytest

from engine.config import ConfigError, load_toml, parse_section


@dataclass(frozen=True)
class _Section:
    threshold: float = 0.01
    name: str = "x"
    mode: Literal["a", "b"] = "a"
    levels: tuple[int, ...] = (1, 2)

    def validate(self) -> None:
        if self.threshold <= 0:
            raise ValueError("threshold: must be positive")


def test_defaults_and_overrides():
    section = parse_section({"threshold": 2, "levels": [3]}, "gate", _Section)
    assert section == _Section(threshold=2.0, levels=(3,))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"nope": 1}, "gate.nope: unknown setting"),
        ({"threshold": "high"}, "gate.threshold: expected a number"),
        ({"mode": "c"}, "gate.mode: 'c' is not one of"),
        ({"levels": [1, "x"]}, "gate.levels[1]: expected an integer"),
        ({"threshold": -1.0}, "gate.threshold: must be positive"),
    ],
)
def test_bad_values_name_the_key(table, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_section(table, "gate", _Section)


def test_repository_default_config_parses(tmp_path):
    assert isinstance(load_toml(), dict)
    broken = tmp_path / "engine.toml"
    broken.write_text("[gate\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_toml(broken)
