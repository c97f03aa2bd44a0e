"""ONNX Runtime runner for the market-price emulators (DESIGN.md §3, §5).

One InferenceSession per model (intra_op_num_threads=1). Per-match state is owned by the caller:
a GRUMatchState holds the hidden state, a KVMatchState the Transformer's append-only key/value
cache. Every input and output is a preallocated numpy buffer bound by IOBinding (zero copy):

* GRU: two bindings per match, ping-ponging between two hidden-state buffers, so a step rebinds
  nothing;
* Transformer: the past is bound as the cache prefix [0, P) and the graph's new K/V rows are
  written straight into row P of the cache — the cache is never copied, except when it grows
  (doubling, amortised) past its capacity.

A state can also be stepped speculatively (`EmulatorRunner.speculate`): the same graph on the same
state with a candidate token, its outputs and new state (GRU) or new K/V rows (Transformer) written
to one of two side branches, the state itself untouched. `commit` later makes a branch the state's
next step, so a step foreseen for both outcomes of a point costs a copy of a few hundred floats
when the point comes, and gives what `step` would have given with that token, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from engine.features.schema import SCHEMA_HASH, SCHEMA_VERSION
from engine.models.metadata import EMULATOR_KINDS, ModelMetadata, load_metadata

F32 = npt.NDArray[np.float32]
_F32 = np.dtype(np.float32)
DEFAULT_CAPACITY: Final = 512

GRU_INPUTS: Final = ("static", "token", "state", "reset")
GRU_OUTPUTS: Final = ("price", "logvar", "distress", "state_out")
KV_HEAD_INPUTS: Final = ("static", "token", "position")
HEAD_OUTPUTS: Final = ("price", "logvar", "distress")


def kv_input_names(layers: int) -> list[str]:
    """past_key_0, past_value_0, past_key_1, … — the Transformer graph's cache inputs."""
    return [f"past_{kind}_{i}" for i in range(layers) for kind in ("key", "value")]


def kv_output_names(layers: int) -> list[str]:
    """new_key_0, new_value_0, … — the rows the graph returns for the caller to append."""
    return [f"new_{kind}_{i}" for i in range(layers) for kind in ("key", "value")]


@dataclass(frozen=True, slots=True)
class StepOutput:
    """Emulator output for one point: price (P(player 1) as the market would show it), the
    log-variance of its error and the distress probability."""

    price: float
    logvar: float
    distress: float


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _bind(binding: Any, name: str, array: npt.NDArray[Any], output: bool = False) -> None:
    bind = binding.bind_output if output else binding.bind_input
    bind(name, "cpu", 0, array.dtype, list(array.shape), array.ctypes.data)


def _dims(session: ort.InferenceSession, name: str) -> list[Any]:
    for node in (*session.get_inputs(), *session.get_outputs()):
        if node.name == name:
            return list(node.shape)
    raise ValueError(f"model: graph has no tensor named {name!r}")


class _Outputs:
    __slots__ = ("distress", "logvar", "price")

    def __init__(self) -> None:
        self.price = np.zeros(1, dtype=np.float32)
        self.logvar = np.zeros(1, dtype=np.float32)
        self.distress = np.zeros(1, dtype=np.float32)

    def read(self) -> StepOutput:
        return StepOutput(float(self.price[0]), float(self.logvar[0]), float(self.distress[0]))


class GRUMatchState:
    """One match's GRU state: hidden-state ping-pong buffers and their two bindings."""

    __slots__ = (
        "_bindings",
        "_branches",
        "_flip",
        "outputs",
        "owner",
        "reset_flag",
        "started",
        "states",
        "static",
        "token",
    )

    def __init__(self, session: ort.InferenceSession, static_dim: int, token_dim: int) -> None:
        layers, _, hidden = _dims(session, "state")
        self.owner = session  # its bindings only work with this session
        self.static = np.zeros((1, static_dim), dtype=np.float32)
        self.token = np.zeros((1, token_dim), dtype=np.float32)
        self.reset_flag = np.ones(1, dtype=np.float32)
        self.outputs = _Outputs()
        self.started = False
        # the bindings hold raw pointers: the buffers must live as long as this object
        self.states = (
            np.zeros((layers, 1, hidden), dtype=np.float32),
            np.zeros((layers, 1, hidden), dtype=np.float32),
        )
        states = self.states
        self._bindings = []
        for src, dst in ((0, 1), (1, 0)):
            binding = session.io_binding()
            _bind(binding, "static", self.static)
            _bind(binding, "token", self.token)
            _bind(binding, "reset", self.reset_flag)
            _bind(binding, "state", states[src])
            _bind(binding, "state_out", states[dst], output=True)
            for name in ("price", "logvar", "distress"):
                _bind(binding, name, getattr(self.outputs, name), output=True)
            self._bindings.append(binding)
        self._flip = 0
        self._branches: _GRUBranches | None = None  # built on the first speculation

    def branches(self) -> _GRUBranches:
        if self._branches is None:
            self._branches = _GRUBranches(self)
        return self._branches


class _GRUBranches:
    """Two speculative steps of one GRU state: per branch a token, an output state and outputs,
    and a binding per (current ping-pong buffer, branch)."""

    __slots__ = ("bindings", "outputs", "states", "tokens")

    def __init__(self, state: GRUMatchState) -> None:
        self.tokens = (np.zeros_like(state.token), np.zeros_like(state.token))
        self.states = (np.zeros_like(state.states[0]), np.zeros_like(state.states[0]))
        self.outputs = (_Outputs(), _Outputs())
        self.bindings: list[list[Any]] = []
        for current in state.states:
            per_branch = []
            for branch in (0, 1):
                binding = state.owner.io_binding()
                _bind(binding, "static", state.static)
                _bind(binding, "token", self.tokens[branch])
                _bind(binding, "reset", state.reset_flag)
                _bind(binding, "state", current)
                _bind(binding, "state_out", self.states[branch], output=True)
                for name in ("price", "logvar", "distress"):
                    _bind(binding, name, getattr(self.outputs[branch], name), output=True)
                per_branch.append(binding)
            self.bindings.append(per_branch)


class KVMatchState:
    """One match's Transformer cache: per layer a key and a value array (capacity, d_model), of
    which rows [0, length) are filled. Append-only."""

    __slots__ = (
        "_binding",
        "_branches",
        "_pointers",
        "caches",
        "layers",
        "length",
        "outputs",
        "owner",
        "position",
        "static",
        "token",
        "width",
    )

    def __init__(
        self,
        session: ort.InferenceSession,
        static_dim: int,
        token_dim: int,
        layers: int,
        capacity: int,
    ) -> None:
        width = int(_dims(session, "past_key_0")[1])
        self.owner = session  # its binding only works with this session
        self.width = width
        self.layers = layers
        self.static = np.zeros((1, static_dim), dtype=np.float32)
        self.token = np.zeros((1, token_dim), dtype=np.float32)
        self.position = np.zeros((), dtype=np.int64)
        # order: key_0, value_0, key_1, value_1, … (as the graph's inputs)
        self.caches = [np.zeros((capacity, width), dtype=np.float32) for _ in range(2 * layers)]
        self._pointers = [cache.ctypes.data for cache in self.caches]
        self.length = 0
        self.outputs = _Outputs()
        self._binding = session.io_binding()
        _bind(self._binding, "static", self.static)
        _bind(self._binding, "token", self.token)
        _bind(self._binding, "position", self.position)
        for name in HEAD_OUTPUTS:
            _bind(self._binding, name, getattr(self.outputs, name), output=True)
        self._branches: _KVBranches | None = None  # built on the first speculation

    def branches(self) -> _KVBranches:
        if self._branches is None:
            self._branches = _KVBranches(self)
        return self._branches

    @property
    def capacity(self) -> int:
        return int(self.caches[0].shape[0])

    def _grow(self) -> None:
        grown = []
        for cache in self.caches:
            bigger = np.zeros((2 * cache.shape[0], *cache.shape[1:]), dtype=np.float32)
            bigger[: self.length] = cache[: self.length]
            grown.append(bigger)
        self.caches = grown
        self._pointers = [cache.ctypes.data for cache in grown]


class _KVBranches:
    """Two speculative steps of one Transformer cache: per branch a token, the new K/V rows
    (key_0, value_0, … as the cache) and outputs, with a binding each."""

    __slots__ = ("bindings", "outputs", "rows", "tokens")

    def __init__(self, state: KVMatchState) -> None:
        self.tokens = (np.zeros_like(state.token), np.zeros_like(state.token))
        self.rows = tuple(
            [np.zeros((1, state.width), dtype=np.float32) for _ in state.caches] for _ in (0, 1)
        )
        self.outputs = (_Outputs(), _Outputs())
        self.bindings: list[Any] = []
        for branch in (0, 1):
            binding = state.owner.io_binding()
            _bind(binding, "static", state.static)
            _bind(binding, "token", self.tokens[branch])
            _bind(binding, "position", state.position)
            for name in HEAD_OUTPUTS:
                _bind(binding, name, getattr(self.outputs[branch], name), output=True)
            self.bindings.append(binding)


class EmulatorRunner:
    """A loaded emulator: one session, stepping caller-owned per-match states."""

    def __init__(self, onnx_path: Path, kind: str, metadata: ModelMetadata | None = None) -> None:
        if kind not in ("gru", "transformer"):
            raise ValueError(f"kind: must be 'gru' or 'transformer', got {kind!r}")
        self.kind = kind
        self.path = onnx_path
        self.metadata = metadata
        self.session = _session(onnx_path)
        names = tuple(i.name for i in self.session.get_inputs())
        outputs = tuple(o.name for o in self.session.get_outputs())
        self.layers = 0
        if kind == "gru":
            expected: tuple[tuple[str, ...], tuple[str, ...]] = (GRU_INPUTS, GRU_OUTPUTS)
        else:
            self.layers = (len(names) - len(KV_HEAD_INPUTS)) // 2
            expected = (
                (*KV_HEAD_INPUTS, *kv_input_names(self.layers)),
                (*HEAD_OUTPUTS, *kv_output_names(self.layers)),
            )
        if (names, outputs) != expected or (kind == "transformer" and self.layers < 1):
            raise ValueError(
                f"model {onnx_path.name}: graph inputs/outputs {names}/{outputs} are not a "
                f"{kind} emulator step graph {expected}"
            )
        self._kv_names = list(
            zip(kv_input_names(self.layers), kv_output_names(self.layers), strict=True)
        )
        self.static_dim = int(_dims(self.session, "static")[1])
        self.token_dim = int(_dims(self.session, "token")[1])

    def new_state(self, capacity: int = DEFAULT_CAPACITY) -> GRUMatchState | KVMatchState:
        """Fresh per-match state; the caller keeps it (one per followed match)."""
        if self.kind == "gru":
            return GRUMatchState(self.session, self.static_dim, self.token_dim)
        return KVMatchState(
            self.session, self.static_dim, self.token_dim, self.layers, max(capacity, 2)
        )

    def _check_owner(self, state: GRUMatchState | KVMatchState) -> None:
        if state.owner is not self.session:
            raise ValueError("state: was created by another model's runner")

    def reset(self, state: GRUMatchState | KVMatchState, static: F32) -> None:
        """Start (or restart) a match from its static vector (STATIC_DIM,)."""
        self._check_owner(state)
        state.static[0, :] = static
        if isinstance(state, GRUMatchState):
            state.reset_flag[0] = 1.0
            state.started = True
            return
        state.length = 0
        state.token[:] = 0.0
        self._run_kv(state)

    def step(self, state: GRUMatchState | KVMatchState, token: F32) -> StepOutput:
        """Advance one point with its token (TOKEN_DIM,); returns the outputs for that point."""
        self._check_owner(state)
        if isinstance(state, GRUMatchState):
            if not state.started:
                raise ValueError("state: reset(state, static) must be called before step")
            state.token[0, :] = token
            binding = state._bindings[state._flip]
            self.session.run_with_iobinding(binding)
            state._flip ^= 1
            state.reset_flag[0] = 0.0
            return state.outputs.read()
        if state.length == 0:
            raise ValueError("state: reset(state, static) must be called before step")
        state.token[0, :] = token
        self._run_kv(state)
        return state.outputs.read()

    def speculate(self, state: GRUMatchState | KVMatchState, token: F32, branch: int) -> StepOutput:
        """What `step(state, token)` would return, computed into side branch 0 or 1 without
        advancing the state; `commit(state, branch)` advances it by that step."""
        self._check_owner(state)
        if isinstance(state, GRUMatchState):
            if not state.started:
                raise ValueError("state: reset(state, static) must be called before speculate")
            gru = state.branches()
            gru.tokens[branch][0, :] = token
            self.session.run_with_iobinding(gru.bindings[state._flip][branch])
            return gru.outputs[branch].read()
        if state.length == 0:
            raise ValueError("state: reset(state, static) must be called before speculate")
        kv = state.branches()
        kv.tokens[branch][0, :] = token
        length = state.length
        state.position[()] = length
        binding = kv.bindings[branch]
        past_shape = [length, state.width]
        for (past_name, new_name), pointer, row in zip(
            self._kv_names, state._pointers, kv.rows[branch], strict=True
        ):
            binding.bind_input(past_name, "cpu", 0, _F32, past_shape, pointer)
            _bind(binding, new_name, row, output=True)
        self.session.run_with_iobinding(binding)
        return kv.outputs[branch].read()

    def commit(self, state: GRUMatchState | KVMatchState, branch: int) -> StepOutput:
        """Advance the state by the step `speculate(state, token, branch)` computed (the caller
        makes sure the state has not moved since); returns that step's outputs."""
        self._check_owner(state)
        if isinstance(state, GRUMatchState):
            gru = state.branches()
            state.states[state._flip ^ 1][...] = gru.states[branch]
            state._flip ^= 1
            state.reset_flag[0] = 0.0
            return gru.outputs[branch].read()
        kv = state.branches()
        length = state.length
        if length >= state.capacity:
            state._grow()
        for cache, row in zip(state.caches, kv.rows[branch], strict=True):
            cache[length] = row[0]
        state.length = length + 1
        return kv.outputs[branch].read()

    def _run_kv(self, state: KVMatchState) -> None:
        length = state.length
        if length >= state.capacity:
            state._grow()
        state.position[()] = length
        binding = state._binding
        past_shape = [length, state.width]
        row_shape = [1, state.width]
        row_offset = length * state.width * 4  # float32 rows, C order
        for (past_name, new_name), pointer in zip(self._kv_names, state._pointers, strict=True):
            binding.bind_input(past_name, "cpu", 0, _F32, past_shape, pointer)
            binding.bind_output(new_name, "cpu", 0, _F32, row_shape, pointer + row_offset)
        self.session.run_with_iobinding(binding)
        state.length = length + 1


def load_emulator(
    onnx_path: Path,
    schema_hash: str = SCHEMA_HASH,
    schema_version: int = SCHEMA_VERSION,
) -> EmulatorRunner:
    """Load NAME.onnx with its NAME.json; refuses a model built on another feature schema."""
    if not onnx_path.is_file():
        raise FileNotFoundError(f"model file not found: {onnx_path}")
    metadata = load_metadata(onnx_path)
    if metadata.kind not in EMULATOR_KINDS:
        raise ValueError(f"model {onnx_path.name}: a {metadata.kind} model, not an emulator")
    metadata.check_schema(schema_hash, schema_version)
    return EmulatorRunner(onnx_path, metadata.kind, metadata)
