"""Fit and check the in-play physics parameters on the slam point-by-point set.

Prints one JSON object (or Markdown tables with --markdown):

- time_split: k chosen and slope fitted on the early years only (default 2011-2013), then the
  fixed-p baseline and that in-play model scored on the later years (2014-2015) they never saw;
- all_years: the same fit on every year — the values engine.toml `[physics]` ships;
- full_set: fixed-p baseline vs the shipped in-play model on the whole set (what
  `courtside physics eval` prints).

Usage: python benchmarks/physics_inplay_fit.py [--data ../shared/data/slams] [--markdown]
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

from engine.physics.calibration import PhysicsConfig, load_physics_config
from engine.physics.eval_data import SlamDataset, load_slams
from engine.physics.evaluate import evaluation_report, predict
from engine.physics.inplay_fit import best_on_fit, strength_curve

STRENGTHS = (
    50.0,
    100.0,
    150.0,
    200.0,
    300.0,
    400.0,
    600.0,
    800.0,
    1200.0,
    1600.0,
    3200.0,
    math.inf,
)
TOURS = ("ATP", "WTA")
HEADLINE = ("n_matches", "n_states", "log_loss", "brier", "accuracy", "calibration_slope")


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    return {
        group: {key: report[group].get(key) for key in HEADLINE} for group in (*TOURS, "overall")
    }


def _with_params(config: PhysicsConfig, chosen: dict[str, dict[str, float]]) -> PhysicsConfig:
    return replace(
        config,
        inplay_strength_atp=chosen["ATP"]["strength"],
        inplay_slope_atp=chosen["ATP"]["slope"],
        inplay_strength_wta=chosen["WTA"]["strength"],
        inplay_slope_wta=chosen["WTA"]["slope"],
    )


def _fit(
    dataset: SlamDataset, config: PhysicsConfig, fit_years: tuple[int, int], test_years: Any
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    out: dict[str, Any] = {}
    chosen: dict[str, dict[str, float]] = {}
    for tour in TOURS:
        curve = strength_curve(
            dataset, tour, STRENGTHS, fit_years=fit_years, test_years=test_years, config=config
        )
        best = best_on_fit(curve)
        chosen[tour] = {"strength": best.strength, "slope": best.slope}
        out[tour] = {"chosen": best.as_dict(), "curve": [point.as_dict() for point in curve]}
    return out, chosen


def _years(dataset: SlamDataset, first: int, last: int) -> SlamDataset:
    year = dataset.matches.year
    return dataset.subset_matches((year >= first) & (year <= last))


def run(data: Path, split_year: int) -> dict[str, Any]:
    started = time.perf_counter()
    dataset = load_slams(data / "matches.csv", data / "points.parquet")
    config = load_physics_config()
    first, last = int(dataset.matches.year.min()), int(dataset.matches.year.max())
    fit_years, test_years = (first, split_year - 1), (split_year, last)

    split, split_chosen = _fit(dataset, config, fit_years, test_years)
    test_set = _years(dataset, *test_years)
    split["fit_years"], split["test_years"] = list(fit_years), list(test_years)
    split["test"] = {
        "fixed": _headline(evaluation_report(test_set, predict(test_set, "fixed", config))),
        "inplay": _headline(
            evaluation_report(
                test_set, predict(test_set, "inplay", _with_params(config, split_chosen))
            )
        ),
    }

    all_years, all_chosen = _fit(dataset, config, (first, last), None)
    shipped = _with_params(config, all_chosen)
    full = {
        "fixed": _headline(evaluation_report(dataset, predict(dataset, "fixed", config))),
        "shrink": _headline(evaluation_report(dataset, predict(dataset, "shrink", shipped))),
        "inplay": _headline(evaluation_report(dataset, predict(dataset, "inplay", shipped))),
    }
    by_year = {}
    for year in range(first, last + 1):
        one = _years(dataset, year, year)
        by_year[str(year)] = {
            "fixed": _headline(evaluation_report(one, predict(one, "fixed", config))),
            "inplay": _headline(evaluation_report(one, predict(one, "inplay", shipped))),
        }
    return {
        "data": str(data),
        "devig": config.devig,
        "strengths": [None if math.isinf(k) else k for k in STRENGTHS],
        "time_split": split,
        "all_years": {"years": [first, last], **all_years},
        "shipped_params": all_chosen,
        "full_set": full,
        "by_year": by_year,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _row(name: str, tour: str, scores: dict[str, Any]) -> str:
    s = scores[tour]
    return (
        f"| {name} | {tour} | {s['n_matches']} | {s['n_states']} | {s['log_loss']:.4f} | "
        f"{s['brier']:.4f} | {s['accuracy']:.4f} | {s['calibration_slope']:.3f} |"
    )


def markdown(result: dict[str, Any]) -> str:
    head = (
        "| model | tour | matches | states | log loss | Brier | accuracy | calibration slope |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|"
    )
    lines = ["Full set (in-play parameters fitted on all years):", "", head]
    lines.extend(
        _row(name, tour, result["full_set"][name])
        for tour in (*TOURS, "overall")
        for name in ("fixed", "shrink", "inplay")
    )
    split = result["time_split"]
    lines += [
        "",
        f"Out of sample: fitted on {split['fit_years']}, scored on {split['test_years']}:",
        "",
        head,
    ]
    for tour in (*TOURS, "overall"):
        for name in ("fixed", "inplay"):
            lines.append(_row(name, tour, split["test"][name]))
    lines += [
        "",
        "Shrinkage strength k (serve points) vs log loss; slope fitted on the fit years:",
        "",
        "| tour | k | slope | fit LL raw | fit LL recal. | test LL raw | test LL recal. "
        "| all-years LL recal. | all-years slope |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tour in TOURS:
        for point, full in zip(
            split[tour]["curve"], result["all_years"][tour]["curve"], strict=True
        ):
            k = "inf" if point["strength"] is None else f"{point['strength']:.0f}"
            lines.append(
                f"| {tour} | {k} | {point['slope']:.3f} | {point['fit_log_loss']:.5f} | "
                f"{point['fit_log_loss_recalibrated']:.5f} | {point['test_log_loss']:.5f} | "
                f"{point['test_log_loss_recalibrated']:.5f} | "
                f"{full['fit_log_loss_recalibrated']:.5f} | {full['slope']:.3f} |"
            )
    lines += [
        "",
        "Per year, shipped parameters (in sample), fixed -> inplay:",
        "",
        "| year | tour | matches | log loss | Brier | calibration slope |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for year, scores in result["by_year"].items():
        for tour in TOURS:
            f, i = scores["fixed"][tour], scores["inplay"][tour]
            lines.append(
                f"| {year} | {tour} | {f['n_matches']} | {f['log_loss']:.4f} -> "
                f"{i['log_loss']:.4f} | {f['brier']:.4f} -> {i['brier']:.4f} | "
                f"{f['calibration_slope']:.3f} -> {i['calibration_slope']:.3f} |"
            )
    lines += ["", f"Chosen (all years): {json.dumps(result['shipped_params'])}"]
    lines += [
        f"Chosen (time split, fit years only): {json.dumps({t: split[t]['chosen'] for t in TOURS})}"
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", default=str(Path(__file__).resolve().parents[2] / "shared/data/slams")
    )
    parser.add_argument("--split-year", type=int, default=2014, help="first test year")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    result = run(Path(args.data), args.split_year)
    if args.markdown:
        sys.stdout.write(markdown(result) + "\n")
    else:
        sys.stdout.write(json.dumps(result, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
