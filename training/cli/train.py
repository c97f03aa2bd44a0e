"""`courtside train`: fit an emulator on a tensor file, write NAME.pt (and optionally export)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from engine.features.schema import VARIANTS


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, choices=["gru", "transformer", "prior"])
    parser.add_argument(
        "--variant", choices=list(VARIANTS), help="emulator variant (required for gru/transformer)"
    )
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        help="tensor file (.npz) for an emulator; the results directory for the prior",
    )
    parser.add_argument("--out", required=True, type=Path, help="directory for NAME.pt")
    parser.add_argument("--name", default=None, help="model name (default MODEL_VARIANT)")
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs (50; prior 60)")
    parser.add_argument("--patience", type=int, default=5, help="early-stopping patience")
    parser.add_argument("--batch-size", type=int, default=None, help="32 (prior 2048)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--sweep-trials",
        type=int,
        default=0,
        help="emulators: first run an Optuna search of this many trials (lr, weight decay, "
        "batch size, dropout), then train the best configuration",
    )
    parser.add_argument(
        "--train-until",
        type=int,
        default=2021,
        help="prior only: last training year; the next is validation, later years test",
    )
    parser.add_argument(
        "--export-to",
        type=Path,
        default=None,
        help="also export NAME.onnx + NAME.json here (parity-checked on validation matches)",
    )
    parser.set_defaults(handler=run_train)


def _command_line(args: argparse.Namespace) -> str:
    """The equivalent command, recorded in the checkpoint and the model metadata."""
    parts = ["courtside", "train", "--model", args.model]
    if args.variant is not None:
        parts += ["--variant", args.variant]
    parts += ["--data", str(args.data), "--out", str(args.out)]
    flags = ["epochs", "patience", "batch_size", "lr", "weight_decay", "seed", "threads"]
    if args.sweep_trials:
        flags.append("sweep_trials")
    if args.model == "prior":
        flags.append("train_until")
    for flag in flags:
        value = getattr(args, flag)
        if value is not None:
            parts += [f"--{flag.replace('_', '-')}", str(value)]
    return shlex.join(parts)


def run_train(args: argparse.Namespace) -> int:
    if args.model == "prior":
        from training.prior.command import run_train_prior

        return run_train_prior(args, _command_line(args))
    if args.variant is None:
        raise ValueError("--variant: required for gru/transformer (full or lite)")
    from training.checkpoint import Checkpoint, save_checkpoint
    from training.export_flow import export_checkpoint
    from training.tensors import data_hash, load_tensors
    from training.train import TrainConfig, train

    data = load_tensors(args.data).as_variant(args.variant)
    config = TrainConfig(
        model=args.model,
        max_epochs=args.epochs or 50,
        patience=args.patience,
        batch_size=args.batch_size or 32,
        lr=args.lr,
        weight_decay=args.weight_decay,
        seed=args.seed,
        threads=args.threads,
    )
    sweep_records: list[dict[str, object]] = []
    if args.sweep_trials:
        from training.sweep import sweep

        found = sweep(data, config, trials=args.sweep_trials)
        config, sweep_records = found.best_config, list(found.trials)
    result = train(data, config)
    name = args.name or f"{args.model}_{args.variant}"
    ckpt_path = args.out / f"{name}.pt"
    training_info = {
        "config": config.to_dict(),
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "seconds": round(result.seconds, 1),
        "data_file": args.data.name,
        "sweep": sweep_records,
        "command": _command_line(args),
    }
    ckpt = Checkpoint(
        model=result.model,
        variant=args.variant,
        data_hash=data_hash(data),
        val_metrics=result.val_metrics,
        training=training_info,
    )
    save_checkpoint(ckpt_path, ckpt)
    summary: dict[str, object] = {
        "checkpoint": str(ckpt_path),
        "val": result.val_metrics,
        "best_epoch": result.best_epoch,
    }
    if args.export_to is not None:
        onnx_path, metadata = export_checkpoint(ckpt, data, args.export_to, name)
        summary["onnx"] = str(onnx_path)
        summary["parity_max_abs_diff"] = metadata.parity_max_abs_diff
    sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
    return 0
