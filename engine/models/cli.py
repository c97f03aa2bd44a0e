"""`courtside models list`: the exported models in a directory with their metadata (no torch)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.models.metadata import ModelMetadata, SchemaMismatchError, load_metadata

DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models_onnx"


def register(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="models_command", parser_class=type(parser))
    listing = commands.add_parser("list", help="list exported models with their metadata")
    listing.add_argument("--dir", type=Path, default=DEFAULT_MODELS_DIR, help="model directory")
    listing.add_argument("--json", action="store_true", help="one JSON object per model")
    listing.set_defaults(handler=run_list)


def find_models(directory: Path) -> list[tuple[Path, ModelMetadata | None, str]]:
    """(onnx path, metadata or None, problem) for every *.onnx, sorted by name."""
    if not directory.is_dir():
        raise FileNotFoundError(f"model directory not found: {directory}")
    found: list[tuple[Path, ModelMetadata | None, str]] = []
    for onnx_path in sorted(directory.glob("*.onnx")):
        try:
            metadata = load_metadata(onnx_path)
        except (OSError, ValueError) as exc:
            found.append((onnx_path, None, str(exc).splitlines()[0]))
            continue
        try:
            metadata.check_schema()
            problem = ""
        except SchemaMismatchError:
            problem = "feature schema differs"
        found.append((onnx_path, metadata, problem))
    return found


def _line(path: Path, metadata: ModelMetadata | None, problem: str) -> str:
    if metadata is None:
        return f"{path.stem:<22} UNUSABLE: {problem}"
    metrics = " ".join(f"{k}={v:.4g}" for k, v in sorted(metadata.metrics.items()))
    status = "ok" if not problem else f"REFUSED ({problem})"
    return (
        f"{metadata.name:<22} {metadata.kind:<11} {metadata.variant:<4} "
        f"schema v{metadata.schema_version} {status:<8} created {metadata.created_utc} "
        f"data {metadata.data_hash[:12]} parity {metadata.parity_max_abs_diff:.1e} {metrics}"
    )


def run_list(args: argparse.Namespace) -> int:
    models = find_models(args.dir)
    for path, metadata, problem in models:
        if args.json:
            record: dict[str, object] = {"file": path.name, "problem": problem}
            if metadata is not None:
                record["metadata"] = metadata.to_dict()
            sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
        else:
            sys.stdout.write(_line(path, metadata, problem) + "\n")
    if not models and not args.json:
        sys.stdout.write(f"no models in {args.dir}\n")
    return 0
