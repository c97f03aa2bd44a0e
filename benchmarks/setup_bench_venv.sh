#!/usr/bin/env bash
# Create the benchmark-only virtual environment holding the peers we compare against (flumine, and
# with it betfairlightweight). It lives OUTSIDE the repository (default /work/bench-venv) so that
# none of these packages leak into the product's dependencies. It also gets orjson and this
# repository (editable, no deps beyond the ones it needs) so bench_stream.py can run all
# implementations in one process/run.
#
# usage: benchmarks/setup_bench_venv.sh [VENV_DIR]
set -euo pipefail
VENV_DIR="${1:-/work/bench-venv}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3.11}"

"$PYTHON" -m venv "$VENV_DIR"
"$VENV_DIR/bin/pip" install --quiet --upgrade pip
"$VENV_DIR/bin/pip" install --quiet "flumine>=2.9" "orjson>=3.10" "structlog>=24.1"
"$VENV_DIR/bin/pip" install --quiet --no-deps -e "$REPO_ROOT"
"$VENV_DIR/bin/python" -c "import flumine, betfairlightweight; print('flumine', flumine.__version__, 'betfairlightweight', betfairlightweight.__version__)"
