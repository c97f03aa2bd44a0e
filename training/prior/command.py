"""`courtside train --model prior`: fit and export the serve-point prior from the results."""

from __future__ import annotations

import argparse
import json
import sys

import torch

from engine.features.prior_history import read_matches, rows_hash, serve_rows, tour_means
from training.prior.export import export_prior
from training.prior.fit import PriorConfig, fit_prior


def run_train_prior(args: argparse.Namespace, command_line: str) -> int:
    """Serve-point prior from the tour-level results (DESIGN.md §4)."""
    if not args.data.is_dir():
        raise FileNotFoundError(f"results directory not found: {args.data}")
    matches = read_matches(args.data)
    tour_serve = tour_means(matches, args.train_until)
    rows = serve_rows(matches, tour_serve)
    config = PriorConfig(
        train_until=args.train_until,
        max_epochs=args.epochs or 60,
        patience=args.patience,
        batch_size=args.batch_size or 2048,
        lr=args.lr,
        weight_decay=args.weight_decay,
        seed=args.seed,
        threads=args.threads,
    )
    result = fit_prior(rows, config)
    name = args.name or "prior"
    args.out.mkdir(parents=True, exist_ok=True)
    ckpt_path = args.out / f"{name}.pt"
    torch.save({"state_dict": result.model.state_dict(), "metrics": result.metrics}, ckpt_path)
    summary: dict[str, object] = {
        "checkpoint": str(ckpt_path),
        "metrics": result.metrics,
        "best_epoch": result.best_epoch,
    }
    if args.export_to is not None:
        test = rows.year > args.train_until + 1
        onnx_path, metadata = export_prior(
            result.model,
            args.export_to,
            name,
            parity_features=rows.features[test][:4096],
            data_hash=rows_hash(rows),
            metrics=result.metrics,
            training={
                "best_epoch": result.best_epoch,
                "seconds": round(result.seconds, 1),
                "rows": len(rows.won),
                "command": command_line,
                # what a live player store needs to rebuild the same features
                "train_until": args.train_until,
                "tour_serve": tour_serve,
            },
        )
        summary["onnx"] = str(onnx_path)
        summary["parity_max_abs_diff"] = metadata.parity_max_abs_diff
    sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
    return 0
