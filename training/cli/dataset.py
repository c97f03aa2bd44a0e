"""`courtside dataset`: align a corpus, tensorise it, or retrain every shipped model in one go.

courtside dataset align --corpus DIR --out FILE.parquet [--matches N] [--workers N]
courtside dataset tensorise --aligned FILE.parquet --out DIR [--variant full|lite] [--seed S]
courtside dataset retrain --corpus DIR --out models_onnx --work DIR [--results DIR] [...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.cli import positive_int
from engine.features.schema import VARIANTS


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(
        dest="dataset_command", metavar="SUBCOMMAND", parser_class=type(parser)
    )
    align = sub.add_parser("align", help="one Parquet row per point: score, book, fair, labels")
    align.add_argument("--corpus", required=True, type=Path, help="folder with matches.jsonl")
    align.add_argument("--out", required=True, type=Path, help="aligned Parquet file to write")
    align.add_argument("--matches", type=positive_int, default=None, help="first N matches by id")
    align.add_argument("--workers", type=positive_int, default=1, help="worker processes")
    align.set_defaults(handler=_align)

    tens = sub.add_parser("tensorise", help="aligned Parquet -> emu_full/emu_lite tensor files")
    tens.add_argument("--aligned", required=True, type=Path, help="file from `dataset align`")
    tens.add_argument("--out", required=True, type=Path, help="folder for emu_<variant>.npz")
    tens.add_argument(
        "--variant", choices=list(VARIANTS), default=None, help="only this variant (default both)"
    )
    tens.add_argument("--seed", type=int, default=0, help="seed of the player-disjoint split")
    tens.set_defaults(handler=_tensorise)

    retrain = sub.add_parser(
        "retrain",
        help="align + tensorise + train/export all four emulators (and the prior) in one command",
    )
    retrain.add_argument("--corpus", required=True, type=Path, help="folder with matches.jsonl")
    retrain.add_argument("--out", required=True, type=Path, help="models folder (models_onnx)")
    retrain.add_argument(
        "--work", required=True, type=Path, help="folder for the Parquet, tensors, checkpoints"
    )
    retrain.add_argument(
        "--results",
        type=Path,
        default=None,
        help="tour-level results folder: also retrain the serve prior "
        "(e.g. ../shared/data/results)",
    )
    retrain.add_argument("--matches", type=positive_int, default=None, help="first N matches by id")
    retrain.add_argument(
        "--models", nargs="+", choices=["gru", "transformer"], default=["gru", "transformer"]
    )
    retrain.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    retrain.add_argument("--epochs", type=positive_int, default=50, help="maximum epochs")
    retrain.add_argument(
        "--transformer-epochs", type=positive_int, default=None, help="maximum epochs (Transformer)"
    )
    retrain.add_argument("--lr", type=float, default=1e-3, help="learning rate (emulators)")
    retrain.add_argument("--patience", type=positive_int, default=5, help="early-stopping patience")
    retrain.add_argument("--batch-size", type=positive_int, default=32)
    retrain.add_argument("--prior-epochs", type=positive_int, default=None)
    retrain.add_argument("--seed", type=int, default=0)
    retrain.add_argument("--jobs", type=positive_int, default=2, help="models trained at once")
    retrain.add_argument("--workers", type=positive_int, default=2, help="align worker processes")
    retrain.set_defaults(handler=_retrain)

    evaluate = sub.add_parser(
        "evaluate", help="score exported emulators (ONNX, step by step) and baselines on a split"
    )
    evaluate.add_argument("--tensors", required=True, type=Path, help="folder of emu_*.npz")
    evaluate.add_argument(
        "--models", required=True, type=Path, nargs="+", help="exported NAME.onnx files"
    )
    evaluate.add_argument(
        "--split", choices=["val", "test"], default="test", help="held-out split (default test)"
    )
    evaluate.set_defaults(handler=_evaluate)


def _emit(obj: object) -> int:
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    return 0


def _align(args: argparse.Namespace) -> int:
    from training.align import align_corpus

    report = align_corpus(args.corpus, args.out, workers=args.workers, limit=args.matches)
    return _emit(
        {
            "out": str(args.out),
            "matches": report.matches,
            "rows": report.rows,
            "skipped": report.skipped,
            "carried_labels": report.carried_labels,
        }
    )


def _tensorise(args: argparse.Namespace) -> int:
    from training.tensorise import tensorise

    variants = VARIANTS if args.variant is None else (args.variant,)
    report = tensorise(args.aligned, args.out, variants=variants, seed=args.seed)
    return _emit(
        {
            "matches": report.matches,
            "dropped_for_disjoint_players": report.dropped_for_disjoint_players,
            "split_counts": {str(k): v for k, v in report.split_counts.items()},
            "files": report.files,
        }
    )


def _evaluate(args: argparse.Namespace) -> int:
    from engine.models.metadata import load_metadata
    from training.evaluate import ANCHOR_BASELINE, evaluate_models
    from training.tensorise import VARIANT_FILES
    from training.tensors import SPLIT_TEST, SPLIT_VAL, load_tensors

    split = SPLIT_TEST if args.split == "test" else SPLIT_VAL
    results: dict[str, dict[str, float]] = {}
    for variant in VARIANTS:
        paths = [p for p in args.models if load_metadata(p).variant == variant]
        if not paths:
            continue
        data = load_tensors(args.tensors / VARIANT_FILES[variant]).subset(split)
        for name, metrics in evaluate_models(paths, data).items():
            if name.startswith(ANCHOR_BASELINE):  # reads the book: one per variant
                results[f"{name} [{variant}]"] = metrics
            else:  # the other baselines read no book column: the same in both variants
                results.setdefault(name, metrics)
    return _emit({"split": args.split, "results": results})


def _retrain(args: argparse.Namespace) -> int:
    from training.pipeline import RetrainPlan, retrain

    plan = RetrainPlan(
        corpus=args.corpus,
        out=args.out,
        work=args.work,
        results=args.results,
        matches=args.matches,
        models=tuple(args.models),
        variants=tuple(args.variants),
        epochs=args.epochs,
        transformer_epochs=args.transformer_epochs,
        lr=args.lr,
        patience=args.patience,
        batch_size=args.batch_size,
        seed=args.seed,
        jobs=args.jobs,
        align_workers=args.workers,
        prior_epochs=args.prior_epochs,
    )
    return _emit(retrain(plan).as_dict())
