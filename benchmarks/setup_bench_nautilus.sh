#!/usr/bin/env bash
# Add NautilusTrader (with its Betfair adapter) to the benchmark-only venv made by
# setup_bench_venv.sh, for bench_replay.py's second peer. Outside the repository, like flumine.
#
# usage: benchmarks/setup_bench_nautilus.sh [VENV_DIR]
set -euo pipefail
VENV_DIR="${1:-/work/bench-venv}"
"$VENV_DIR/bin/pip" install --quiet "nautilus_trader[betfair]==1.221.0"
"$VENV_DIR/bin/python" -c "import nautilus_trader; print('nautilus_trader', nautilus_trader.__version__)"
