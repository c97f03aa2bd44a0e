"""`courtside physics eval`: score the model before every point of real slam matches.

Reads the `../shared/data/slams` format, keeps matches with `pbp_consistent`, Pinnacle odds and no
retirement, and prints one JSON object with per-tour and overall log loss, Brier, accuracy,
calibration slope and a 10-bin reliability table. `--plot` also writes a reliability diagram.
`--prior MODEL --results DIR` adds the same scores with p_a + p_b from the learned serve-point
prior (`prior_sums`) and a side-by-side `comparison` on the same matches.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.logs import get_logger
from engine.models.prior import prior_train_until
from engine.physics.calibration import PhysicsConfig, load_physics_config
from engine.physics.devig import DEVIG_METHODS
from engine.physics.eval_data import SlamDataset, load_slams
from engine.physics.eval_prior import (
    prior_serve_sums,
    read_slam_players,
    realised_serve_sums,
    sum_rmse,
)
from engine.physics.evaluate import (
    MODELS,
    drop_unpriceable_matches,
    evaluation_report,
    predict,
    prematch_arrays,
    table_serve_sums,
)
from engine.physics.serve_prior import open_serve_sum_prior

log = get_logger("physics.eval")


def register(parser: argparse.ArgumentParser) -> None:
    """Add the eval options to `parser` (the `physics eval` sub-command parser)."""
    parser.add_argument("--matches", required=True, help="matches.csv (slams format)")
    parser.add_argument("--points", required=True, help="points.parquet (slams format)")
    parser.add_argument("--plot", default=None, help="write a reliability diagram (PNG) here")
    parser.add_argument(
        "--model",
        choices=MODELS,
        default="inplay",
        help="fixed: pre-match (p_a, p_b) all match; shrink: + serve-point shrinkage; "
        "inplay (default): + per-tour logit-slope recalibration",
    )
    parser.add_argument(
        "--devig", choices=DEVIG_METHODS, default=None, help="default: engine.toml physics.devig"
    )
    parser.add_argument(
        "--years",
        default=None,
        metavar="FIRST:LAST",
        help="only matches from these years (inclusive), e.g. 2014:2015",
    )
    parser.add_argument(
        "--tour", choices=("ATP", "WTA"), default=None, help="only this tour's matches"
    )
    parser.add_argument("--config", default=None, help="engine.toml to read (default: shipped)")
    parser.add_argument(
        "--prior",
        default=None,
        help="also score with p_a + p_b from this serve-point prior (e.g. models_onnx/prior.onnx) "
        "next to the table sums; needs --results",
    )
    parser.add_argument(
        "--results",
        default=None,
        help="tour-level results folder for the prior's player store (../shared/data/results)",
    )
    parser.set_defaults(handler=run)


def parse_years(text: str) -> tuple[int, int]:
    """'2014:2015' -> (2014, 2015); a single year is both ends."""
    parts = text.split(":")
    if len(parts) > 2 or not all(part.strip().isdigit() for part in parts):
        raise ValueError(f"years: expected FIRST:LAST such as 2014:2015, got {text!r}")
    first, last = int(parts[0]), int(parts[-1])
    if first > last:
        raise ValueError(f"years: {first} is after {last}")
    return first, last


def _select(dataset: SlamDataset, years: str | None, tour: str | None) -> SlamDataset:
    mask = np.ones(len(dataset.matches), dtype=np.bool_)
    if years is not None:
        first, last = parse_years(years)
        mask &= (dataset.matches.year >= first) & (dataset.matches.year <= last)
    if tour is not None:
        mask &= dataset.matches.tour == tour
    if not np.any(mask):
        raise ValueError("matches: no match left after filtering")
    return dataset if np.all(mask) else dataset.subset_matches(mask)


def _model_settings(model: str, config: PhysicsConfig) -> dict[str, Any]:
    settings: dict[str, Any] = {"devig": config.devig, "sums": {}}
    for tour in ("ATP", "WTA"):
        for surface in ("Hard", "Clay", "Grass"):
            settings["sums"][f"{tour}_{surface}"] = config.serve_sum(tour, surface)
        if model != "fixed":
            params = config.inplay(tour)
            settings[f"strength_{tour}"] = None if math.isinf(params.strength) else params.strength
        if model == "inplay":
            settings[f"slope_{tour}"] = config.inplay(tour).slope
    return settings


def _prior_report(
    dataset: SlamDataset,
    *,
    model: str,
    config: PhysicsConfig,
    matches_path: str,
    prior_path: str,
    results_dir: str | None,
) -> dict[str, Any]:
    """The same scores with p_a + p_b from the prior, store folded up to each slam's start."""
    if results_dir is None:
        raise ValueError("results: --prior needs --results (the tour-level results folder)")
    if not Path(prior_path).is_file():
        raise ValueError(f"prior: no such file {prior_path}")
    if not Path(results_dir).is_dir():
        raise ValueError(f"results: no such folder {results_dir}")
    prior = open_serve_sum_prior(Path(prior_path), Path(results_dir), config.prior_sum_band)
    table = table_serve_sums(dataset.matches, config)
    sums = prior_serve_sums(dataset.matches, read_slam_players(matches_path), prior, table)
    prematch = prematch_arrays(dataset.matches, config, sums.sums)
    report = evaluation_report(dataset, predict(dataset, model, config, prematch))
    tours = dataset.matches.tour
    realised = realised_serve_sums(dataset)
    return {
        "model_file": prior_path,
        "train_until": prior_train_until(prior.runner.metadata),
        "band": list(config.prior_sum_band),
        "matches_with_prior": int(np.sum(sums.from_prior)),
        "fallbacks": sums.fallbacks,
        "newcomer_players": sums.newcomers,
        "mean_sum": {
            tour: {
                "table": float(np.mean(table[tours == tour])),
                "prior": float(np.mean(sums.sums[tours == tour])),
                "prior_sd": float(np.std(sums.sums[tours == tour])),
                "realised": float(np.nanmean(realised[tours == tour])),
                "rmse_vs_realised_table": sum_rmse(realised, table, tours == tour),
                "rmse_vs_realised_prior": sum_rmse(realised, sums.sums, tours == tour),
            }
            for tour in np.unique(tours).tolist()
        },
        **report,
    }


def _comparison(table: dict[str, Any], prior: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per tour and sum source: the headline scores side by side."""
    rows = []
    for group in ("ATP", "WTA", "overall"):
        for source, report in (("table", table), ("prior", prior)):
            scores = report[group]
            rows.append(
                {
                    "tour": group,
                    "sums": source,
                    "n_matches": scores["n_matches"],
                    "log_loss": scores["log_loss"],
                    "brier": scores["brier"],
                    "calibration_slope": scores["calibration_slope"],
                }
            )
    return rows


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def run(args: argparse.Namespace) -> int:
    if args.plot is not None and not Path(args.plot).resolve().parent.is_dir():
        raise ValueError(f"plot: folder {Path(args.plot).parent} does not exist")
    config = load_physics_config(args.config)
    if args.devig is not None:
        config = replace(config, devig=args.devig)
    started = time.perf_counter()
    dataset = drop_unpriceable_matches(
        _select(load_slams(args.matches, args.points), args.years, args.tour)
    )
    p = predict(dataset, args.model, config)
    report = evaluation_report(dataset, p)
    prior_report = (
        None
        if args.prior is None
        else _prior_report(
            dataset,
            model=args.model,
            config=config,
            matches_path=args.matches,
            prior_path=args.prior,
            results_dir=args.results,
        )
    )
    elapsed = time.perf_counter() - started
    log.info("eval_done", model=args.model, states=len(dataset.points), seconds=round(elapsed, 3))
    payload = {
        "model": args.model,
        "settings": _model_settings(args.model, config),
        "excluded": dataset.excluded,
        **report,
    }
    if prior_report is not None:
        payload["prior_sums"] = prior_report
        payload["comparison"] = _comparison(report, prior_report)
    if args.plot is not None:
        from engine.physics.reliability_plot import write_reliability_plot

        write_reliability_plot(report, Path(args.plot), title=f"model: {args.model}")
        payload["plot"] = str(args.plot)
    sys.stdout.write(json.dumps(_json_safe(payload)) + "\n")
    return 0
