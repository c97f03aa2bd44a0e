"""One Prometheus textfile for a whole replay, from the per-task textfiles.

Each task writes its own engine's metrics (the live names, engine.metrics). A run spread over
processes has no single registry, so the run's file is merged from the task files: counters,
histogram buckets/counts/sums and summaries add up; gauges are point-in-time values, and for a
replay the meaningful aggregate of per-market gauges (kill switch, staleness, emulator error) is
the largest, so gauges keep the maximum. Sample order follows the first file, then new samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

_SUMMED = {"counter", "histogram", "summary", "gaugehistogram", "unknown"}


def _label_text(sample: Sample) -> str:
    if not sample.labels:
        return ""
    inner = ",".join(
        f'{key}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for key, value in sample.labels.items()
    )
    return "{" + inner + "}"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def merge_textfiles(paths: Iterable[Path]) -> str:
    """Merged exposition text of the given textfiles (missing files are skipped)."""
    families: dict[str, tuple[str, str]] = {}  # name -> (type, help)
    order: dict[str, list[str]] = {}  # family -> sample keys in first-seen order
    values: dict[str, float] = {}
    for path in paths:
        if not path.is_file():
            continue
        for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
            families.setdefault(family.name, (family.type, family.documentation))
            keys = order.setdefault(family.name, [])
            for sample in family.samples:
                key = sample.name + _label_text(sample)
                if key not in values:
                    keys.append(key)
                    values[key] = sample.value
                elif family.type in _SUMMED:
                    values[key] += sample.value
                else:
                    values[key] = max(values[key], sample.value)
    lines: list[str] = []
    for name, (kind, doc) in families.items():
        header = f"{name}_total" if kind == "counter" else name  # as prometheus_client writes
        lines.append(f"# HELP {header} {doc}")
        lines.append(f"# TYPE {header} {kind}")
        lines.extend(f"{key} {_number(values[key])}" for key in order[name])
    return "\n".join(lines) + "\n"


def write_merged(paths: Iterable[Path], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(merge_textfiles(paths), encoding="utf-8")
