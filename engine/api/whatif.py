"""/whatif scenarios on the physics model: "what if player 1's serve drops 5 pp?", "what if it
were 4-5 30-40?". Pure parsing and pricing; every bad input raises ValueError("field: reason")."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Final, cast

from engine.api.view import PricingInputs
from engine.physics.pricing import price
from engine.physics.rules import FINAL_SET_RULES, FinalSetRule, MatchRules
from engine.physics.state import MatchState, parse_score, validate

FIELDS: Final = frozenset(
    {
        "match_id",
        "pa",
        "pb",
        "score",
        "server",
        "best_of",
        "final_set",
        "no_ad",
        "pa_delta",
        "pb_delta",
        "scenario_score",
        "scenario_server",
    }
)


def _number(params: Mapping[str, Any], name: str) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name}: must be finite, got {value!r}")
    return number


def _integer(params: Mapping[str, Any], name: str, allowed: tuple[int, ...]) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise ValueError(f"{name}: must be one of {list(allowed)}, got {value!r}")
    return value


def _flag(params: Mapping[str, Any], name: str) -> bool | None:
    value = params.get(name)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
        return value.lower() in ("true", "1")
    raise ValueError(f"{name}: expected true or false, got {value!r}")


def _text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{name}: expected a string, got {value!r}")


def _probability(name: str, value: float) -> float:
    if not 0.0 < value < 1.0:
        raise ValueError(
            f"{name}: the serve probability must end strictly between 0 and 1, got {value:.4f}"
        )
    return value


def _scored(
    state: MatchState, text: str | None, server: int | None, rules: MatchRules, field: str
) -> MatchState:
    """`state` with another score and/or server; errors name `field`."""
    next_server = state.server if server is None else server
    try:
        if text is None:
            return validate(dataclasses.replace(state, server=next_server), rules)
        return parse_score(text, next_server, rules)
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}") from None


def _rules(params: Mapping[str, Any], base: MatchRules) -> MatchRules:
    best_of = _integer(params, "best_of", (3, 5))
    final_set = _text(params, "final_set")
    no_ad = _flag(params, "no_ad")
    final: FinalSetRule = base.final_set
    if final_set is not None:
        if final_set not in FINAL_SET_RULES:
            raise ValueError(
                f"final_set: must be one of {list(FINAL_SET_RULES)}, got {final_set!r}"
            )
        final = cast(FinalSetRule, final_set)
    return MatchRules(
        best_of=base.best_of if best_of is None else best_of,
        final_set=final,
        no_ad=base.no_ad if no_ad is None else no_ad,
    )


def base_inputs(params: Mapping[str, Any], current: PricingInputs | None) -> PricingInputs:
    """The situation before the scenario: the match's current inputs, overridden field by field,
    or (no match) built entirely from the parameters (pa and pb required)."""
    unknown = sorted(set(params) - FIELDS)
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown parameter (known: {', '.join(sorted(FIELDS))})")
    rules = _rules(params, current.rules if current is not None else MatchRules())
    pa, pb = _number(params, "pa"), _number(params, "pb")
    score = _text(params, "score")
    if current is None:
        if pa is None:
            raise ValueError("pa: required when no match_id is given")
        if pb is None:
            raise ValueError("pb: required when no match_id is given")
        state = MatchState()
        score = "" if score is None else score
    else:
        pa = current.pa if pa is None else pa
        pb = current.pb if pb is None else pb
        state = current.state
    state = _scored(state, score, _integer(params, "server", (1, 2)), rules, "score")
    return PricingInputs(_probability("pa", pa), _probability("pb", pb), rules, state)


def scenario_inputs(params: Mapping[str, Any], base: PricingInputs) -> PricingInputs:
    """The base with the scenario applied: serve-probability deltas and/or another score."""
    pa_delta = _number(params, "pa_delta") or 0.0
    pb_delta = _number(params, "pb_delta") or 0.0
    pa = _probability("pa_delta", base.pa + pa_delta)
    pb = _probability("pb_delta", base.pb + pb_delta)
    state = _scored(
        base.state,
        _text(params, "scenario_score"),
        _integer(params, "scenario_server", (1, 2)),
        base.rules,
        "scenario_score",
    )
    return PricingInputs(pa, pb, base.rules, state)


def _describe(inputs: PricingInputs) -> dict[str, Any]:
    s = inputs.state
    pricing = dataclasses.asdict(price(inputs.pa, inputs.pb, inputs.rules, s))
    return {
        "pa": inputs.pa,
        "pb": inputs.pb,
        "sets": list(s.sets),
        "games": list(s.games),
        "points": list(s.points),
        "server": s.server,
        **pricing,
    }


def run_whatif(params: Mapping[str, Any], current: PricingInputs | None) -> dict[str, Any]:
    """Price the base and the scenario; the answer carries both and the change in p_match."""
    base = base_inputs(params, current)
    scenario = scenario_inputs(params, base)
    before, after = _describe(base), _describe(scenario)
    rules = base.rules
    return {
        "rules": {"best_of": rules.best_of, "final_set": rules.final_set, "no_ad": rules.no_ad},
        "base": before,
        "scenario": after,
        "delta_p_match": after["p_match"] - before["p_match"],
    }
