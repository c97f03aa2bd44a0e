"""engine.toml [staking], [risk], [orders] and [simexchange]: defaults and refusals."""

import re

import pytest

from adapters.simexchange.config import SimExchangeConfig, load_simexchange_config
from engine.config import ConfigError, load_toml
from engine.execution.config import ExecutionConfig, load_execution_config


def test_repository_engine_toml_matches_the_dataclass_defaults():
    config = load_toml()
    execution = load_execution_config(config)
    defaults = load_execution_config({})
    assert execution == defaults
    assert isinstance(execution, ExecutionConfig)
    assert load_simexchange_config(config) == SimExchangeConfig()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"staking": {"kelly_fraction": 1.5}}, "staking.kelly_fraction"),
        ({"staking": {"kellyfraction": 0.5}}, "staking.kellyfraction: unknown setting"),
        ({"risk": {"max_order_stake": 0}}, "risk.max_order_stake"),
        ({"risk": {"max_orders_per_window": 1.5}}, "risk.max_orders_per_window"),
        ({"orders": {"synchronous": "OFF"}}, "orders.synchronous"),
        ({"orders": {"ref_prefix": "toolongprefix"}}, "orders.ref_prefix"),
    ],
)
def test_bad_values_are_refused_with_the_dotted_key(table, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_execution_config(table)


def test_bad_simexchange_values():
    with pytest.raises(ConfigError, match=r"simexchange\.cancel_model"):
        load_simexchange_config({"simexchange": {"cancel_model": "magic"}})
    with pytest.raises(ConfigError, match=r"simexchange\.traded_volume_divisor"):
        load_simexchange_config({"simexchange": {"traded_volume_divisor": 0.5}})
