"""`courtside export`: checkpoint -> single-step ONNX + metadata, parity-checked."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, type=Path, help="NAME.pt from train")
    parser.add_argument(
        "--data", required=True, type=Path, help="tensor file whose validation matches drive parity"
    )
    parser.add_argument("--out", required=True, type=Path, help="directory (e.g. models_onnx)")
    parser.add_argument("--name", default=None, help="model name (default: checkpoint stem)")
    parser.add_argument("--parity-matches", type=int, default=8)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    from training.checkpoint import load_checkpoint
    from training.export_flow import export_checkpoint
    from training.tensors import load_tensors

    if args.parity_matches < 1:
        raise ValueError("--parity-matches: must be >= 1")
    ckpt = load_checkpoint(args.checkpoint)
    data = load_tensors(args.data).as_variant(ckpt.variant)
    name = args.name or args.checkpoint.stem
    onnx_path, metadata = export_checkpoint(
        ckpt,
        data,
        args.out,
        name,
        parity_matches=args.parity_matches,
        tolerance=args.tolerance,
    )
    sys.stdout.write(
        json.dumps(
            {"onnx": str(onnx_path), "parity_max_abs_diff": metadata.parity_max_abs_diff},
            sort_keys=True,
        )
        + "\n"
    )
    return 0
