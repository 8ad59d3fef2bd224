"""Inference engines against PyTorch eager (article claims C7 and C10).

The same model runs in PyTorch eager (the baseline), compiled by
``torch.compile`` (Inductor), exported to ONNX Runtime, converted to OpenVINO
(true FP32, OpenVINO's own defaults, and INT8 quantized post-training with
NNCF), and converted to LiteRT, the TensorFlow family's runtime (formerly
TensorFlow Lite). Every engine sets its thread count explicitly and records
what it really ran: the precision OpenVINO chose, the compiled or converted
shapes, the delegate.

Engines that fix shapes when they compile or convert (``torch.compile`` with
``dynamic=False``, LiteRT) prepare one program per input shape: the batch-1
shape at build time, every other timed shape when the runner binds it, each
checked against PyTorch before it is timed. OpenVINO keeps every input axis
of the converted model dynamic, so one compiled model serves every shape.

Converted models (OpenVINO IR, INT8 IR, ``.tflite`` files) are cached under
the cache folder, keyed by the workload's code, the conversion code, the shape
and the package versions; the conversion time measured when a file was made
travels with it, and ``info`` says whether this run reused it.
"""

from __future__ import annotations

import fcntl
import hashlib
import inspect
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.results import ExperimentResult
from benchmarks.techniques.onnxruntime import ORT_ALL, PYTORCH_EAGER
from benchmarks.verdicts import Finding, Verdict, info, quality

if TYPE_CHECKING:
    from benchmarks.engines import Variant


# ---- converted models, cached --------------------------------------------------------------


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _source_key(workload: ModuleType, maker: Callable[..., Any], **extra: Any) -> dict[str, Any]:
    """What a converted model depends on: the workload's code (its weights follow from it), the code
    that converts, and whatever the caller adds (shape, settings, package versions)."""
    import torch

    return {
        "workload": _digest(Path(workload.__file__).read_text()),
        "maker": _digest(inspect.getsource(maker)),
        "torch": torch.__version__,
        **extra,
    }


def _artifact(
    kind: str, key: dict[str, Any], make: Callable[[Path], dict[str, Any]]
) -> tuple[Path, dict[str, Any], bool]:
    """A folder made once per key by ``make(folder) -> meta``; returns (folder, meta, reused).

    Parallel workers wait on a file lock, so a model is converted once; the folder
    appears by an atomic rename, so a crash never leaves a half-written model.
    """
    from benchmarks.workloads import cache_dir

    root = cache_dir() / "engines"
    root.mkdir(parents=True, exist_ok=True)
    name = f"{kind}-{_digest(key)}"
    final = root / name
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        meta_file = final / "meta.json"
        if meta_file.is_file():
            return final, json.loads(meta_file.read_text()), True
        tmp = root / f".{name}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        meta = make(tmp)
        (tmp / "meta.json").write_text(json.dumps(meta, sort_keys=True))
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        return final, meta, False


def _torch_inputs(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    import torch

    # A fresh copy has the same strides for every source of inputs; strides of size-1 axes vary
    # with how an array was sliced, and torch.compile guards on them (a mismatch recompiles).
    return {k: torch.from_numpy(np.array(v, order="C", copy=True)) for k, v in inputs.items()}


def _eager(model: Any, inputs: dict[str, np.ndarray]) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return model(**_torch_inputs(inputs)).float().numpy()


def _shape_label(inputs: dict[str, np.ndarray]) -> str:
    first = next(iter(inputs.values()))
    # No spaces: the label is part of a one-time cost's name, which page markers can cite.
    if first.ndim == 2:  # token inputs: (batch, sequence)
        return f"batch={first.shape[0]},seq={first.shape[1]}"
    if first.ndim == 4:  # images: (batch, channels, height, width)
        return f"batch={first.shape[0]},{first.shape[2]}x{first.shape[3]}"
    return "batch=" + "x".join(str(d) for d in first.shape)


def _max_abs_diff(got: np.ndarray, expected: np.ndarray, engine: str) -> float:
    from benchmarks.engines import ParityError

    if got.shape != expected.shape:
        raise ParityError(f"{engine} output shape {got.shape} differs from PyTorch's {expected.shape}")
    return float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))


def _check_parity(worst: float, tolerance: float, engine: str) -> None:
    from benchmarks.engines import ParityError

    if not worst <= tolerance:
        raise ParityError(f"{engine} output differs from PyTorch by {worst:.3g} (tolerance {tolerance:g})")


# ---- engines that fix shapes: one program per shape ----------------------------------------


class StaticShapes:
    """Programs compiled or converted for one input shape each, made on first use and checked.

    ``prepare(inputs)`` returns ``(make_call, cost_s)``: ``make_call(inputs)`` gives the
    zero-argument call the harness times, and ``cost_s`` is the compile or conversion time.
    Every new shape is compared with PyTorch eager on its own inputs before it is used.
    """

    def __init__(
        self,
        engine: str,
        workload: ModuleType,
        model: Any,
        prepare: Callable[[dict[str, np.ndarray]], tuple[Callable[..., Callable[[], Any]], float]],
        cost_name: str,
        record: dict[str, Any],
        costs: dict[str, float],
    ) -> None:
        self.engine, self.workload, self.model = engine, workload, model
        self.prepare, self.cost_name = prepare, cost_name
        self.record, self.costs = record, costs
        self.programs: dict[tuple, Callable[..., Callable[[], Any]]] = {}
        self.seq_len: int | None = None  # set by build() for token inputs
        self.record.setdefault("shapes_prepared", [])
        self.record.setdefault("parity_max_abs_diff", 0.0)
        self.record["parity_tolerance"] = workload.PARITY_ATOL

    def program(self, inputs: dict[str, np.ndarray]) -> Callable[..., Callable[[], Any]]:
        key = tuple((k, v.shape) for k, v in inputs.items())
        if key not in self.programs:
            label = _shape_label(inputs)
            make_call, cost_s = self.prepare(inputs)
            worst = _max_abs_diff(_numpy(make_call(inputs)()), _eager(self.model, inputs), self.engine)
            _check_parity(worst, self.workload.PARITY_ATOL, f"{self.engine} ({label})")
            self.record["parity_max_abs_diff"] = max(self.record["parity_max_abs_diff"], worst)
            self.record["shapes_prepared"].append(label)
            self.costs[f"{self.cost_name}[{label}]"] = cost_s
            self.programs[key] = make_call
        return self.programs[key]

    def bind(self, inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        return self.program(inputs)(inputs)

    def predict(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """One example at a time at the build shape, so evaluation adds no shapes to compile."""
        rows = []
        for i in range(len(next(iter(inputs.values())))):
            row = _pad_row({k: v[i : i + 1] for k, v in inputs.items()}, self.seq_len)
            rows.append(_numpy(self.program(row)(row)()))
        return np.concatenate(rows)

    def build(self) -> None:
        """Prepare the batch-1 shape (a timed point of every grid) and remember its sequence length."""
        first = self.workload.parity_inputs()[0]
        if len(next(iter(first.values()))) != 1:
            raise ValueError(f"{self.workload.NAME}: the first parity input must have batch 1")
        self.seq_len = first["attention_mask"].shape[1] if "attention_mask" in first else None
        self.program(first)


def _numpy(value: Any) -> np.ndarray:
    if hasattr(value, "numpy"):
        return value.float().numpy() if hasattr(value, "float") else value.numpy()
    return np.asarray(value)


def _pad_row(row: dict[str, np.ndarray], seq_len: int | None) -> dict[str, np.ndarray]:
    """A token row cut to its real length and padded (mask 0) to ``seq_len``; images unchanged.

    Masked positions change neither attention nor mean pooling, so the embedding stays the
    same; a longer sentence is padded to the next multiple of ``seq_len`` (one more program).
    """
    if seq_len is None or "attention_mask" not in row:
        return row
    length = int(row["attention_mask"].sum())
    width = -(-length // seq_len) * seq_len
    padded = {}
    for name, value in row.items():
        out = np.zeros((1, width), dtype=value.dtype)
        out[:, :length] = value[:, :length]
        padded[name] = out
    return padded


# ---- torch.compile ---------------------------------------------------------------------------


def build_torch_compile(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """``torch.compile`` with Inductor in its default mode; one static graph per input shape."""
    import torch
    import torch._dynamo
    from torch._dynamo.utils import counters

    from benchmarks.engines import Variant
    from benchmarks.model_stats import model_size

    torch.set_num_threads(threads)
    # One graph per timed shape, plus the evaluation shape: more than the default limit of 8
    # would silently fall back to eager.
    torch._dynamo.config.recompile_limit = 64
    model = workload.torch_model()

    # --8<-- [start:torch-compile]
    compiled = torch.compile(model, backend="inductor", mode=None, dynamic=False)

    def prepare(inputs: dict[str, np.ndarray]) -> tuple[Callable[..., Callable[[], Any]], float]:
        def make_call(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
            tensors = _torch_inputs(inputs)

            def call() -> Any:
                with torch.inference_mode():
                    return compiled(**tensors)

            return call

        start = time.perf_counter()
        make_call(inputs)()  # the first call of a new shape traces and compiles it
        return make_call, time.perf_counter() - start

    # --8<-- [end:torch-compile]

    record: dict[str, Any] = {
        "engine": "pytorch",
        "mode": "torch.compile (inductor, default mode, dynamic=False)",
        "precision": "fp32",
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "shapes": "static: one compiled graph per input shape",
        **model_size(model),
    }
    costs: dict[str, float] = {}
    shapes = StaticShapes("torch.compile", workload, model, prepare, "compile_s", record, costs)
    shapes.build()
    # Inductor caches compiled graphs on disk across processes, as it does for any user.
    record["inductor_fxgraph_cache"] = {
        k.removeprefix("fxgraph_cache_"): v for k, v in counters["inductor"].items() if "fxgraph_cache" in k
    }
    return Variant(shapes.bind, shapes.predict, record, costs)


# ---- OpenVINO --------------------------------------------------------------------------------

# Layers that hold nearly all the arithmetic; their runtime precision is what matters.
HEAVY_LAYERS = {"Convolution", "GroupConvolution", "FullyConnected", "MatMul", "ScaledDotProductAttention"}
CALIBRATION = {"digits-cnn": 300, "minilm": 200, "resnet50": 32}  # examples NNCF calibrates on


def _openvino_fp32_ir(workload: ModuleType, model: Any) -> tuple[Path, dict[str, Any], bool]:
    import openvino as ov

    def make(folder: Path) -> dict[str, Any]:
        # --8<-- [start:openvino-convert]
        example = _torch_inputs(workload.example_inputs())
        start = time.perf_counter()
        ov_model = ov.convert_model(model, example_input=example)
        convert_s = time.perf_counter() - start
        # save_model compresses weights to FP16 unless told not to.
        ov.save_model(ov_model, folder / "model.xml", compress_to_fp16=False)
        # --8<-- [end:openvino-convert]
        return {"convert_s": convert_s, "input_shapes": [str(i.get_partial_shape()) for i in ov_model.inputs]}

    key = _source_key(workload, _openvino_fp32_ir, openvino=ov.get_version())
    return _artifact(f"openvino-{workload.NAME}", key, make)


def calibration_items(workload: ModuleType) -> list[dict[str, np.ndarray]]:
    """Calibration inputs that are never evaluation inputs: the digits training split, the MiniLM
    training corpus, and random images drawn with a seed the evaluation does not use."""
    count = CALIBRATION[workload.NAME]
    if workload.NAME == "digits-cnn":
        x_train = workload.dataset()[0][:count]
        return [{"images": x_train[i : i + 1]} for i in range(len(x_train))]
    if workload.NAME == "minilm":
        from benchmarks.workloads.minilm_corpus import train_texts

        texts = train_texts()[:count]
        tokenizer = workload.tokenizer()
        items = []
        for i in range(0, len(texts), 8):  # batches of 8 padded to their longest, like real traffic
            batch = tokenizer(
                texts[i : i + 8],
                padding=True,
                truncation=True,
                max_length=workload.EVAL_MAX_LENGTH,
                return_tensors="np",
            )
            items.append({name: batch[name].astype(np.int64) for name in workload.INPUT_NAMES})
        return items
    if workload.NAME == "resnet50":
        images = workload._images(count, workload.IMAGE_SIZE, seed=5)  # evaluation uses seed 2
        return [{"images": images[i : i + 1]} for i in range(count)]
    raise KeyError(f"no calibration data for {workload.NAME}")


def _openvino_int8_ir(workload: ModuleType, fp32_xml: Path) -> tuple[Path, dict[str, Any], bool]:
    import openvino as ov

    def make(folder: Path) -> dict[str, Any]:
        import nncf

        items = calibration_items(workload)
        # --8<-- [start:nncf]
        fp32_model = ov.Core().read_model(fp32_xml)
        transformer = workload.NAME == "minilm"
        start = time.perf_counter()
        int8_model = nncf.quantize(
            fp32_model,
            nncf.Dataset(items),
            subset_size=len(items),
            model_type=nncf.ModelType.TRANSFORMER if transformer else None,
        )
        calibrate_s = time.perf_counter() - start
        ov.save_model(int8_model, folder / "model.xml", compress_to_fp16=False)
        # --8<-- [end:nncf]
        return {"calibrate_s": calibrate_s, "calibration_batches": len(items)}

    key = _source_key(
        workload,
        _openvino_int8_ir,
        fp32=fp32_xml.parent.name,
        calibration=CALIBRATION[workload.NAME],
        source=inspect.getsource(calibration_items),
        nncf=version("nncf"),
        openvino=ov.get_version(),
    )
    return _artifact(f"openvino-int8-{workload.NAME}", key, make)


def _runtime_precisions(compiled: Any) -> tuple[dict[str, int], dict[str, int]]:
    """Precisions of the layers OpenVINO really executes: all compute layers, and the heavy ones."""
    every: Counter[str] = Counter()
    heavy: Counter[str] = Counter()
    for op in compiled.get_runtime_model().get_ops():
        rt = op.get_rt_info()
        if "runtimePrecision" not in rt or "layerType" not in rt:
            continue
        layer, precision = rt["layerType"].astype(str), rt["runtimePrecision"].astype(str)
        if layer in {"Const", "Input", "Output"}:
            continue
        every[precision] += 1
        if layer in HEAVY_LAYERS:
            heavy[precision] += 1
    return dict(every.most_common()), dict(heavy.most_common())


def build_openvino(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """OpenVINO on the CPU: ``precision`` "f32" (hint f32), "default" (OpenVINO's choice) or "int8" (NNCF)."""
    import openvino as ov
    import torch

    from benchmarks.engines import Variant

    torch.set_num_threads(threads)
    precision = options.get("precision", "f32")
    if precision not in {"f32", "default", "int8"}:
        raise ValueError(f"unknown OpenVINO precision option {precision!r}")
    model = workload.torch_model()
    costs: dict[str, float] = {}
    fp32_dir, fp32_meta, fp32_reused = _openvino_fp32_ir(workload, model)
    costs["convert_s"] = fp32_meta["convert_s"]
    xml = fp32_dir / "model.xml"
    record: dict[str, Any] = {"ir_reused_from_cache": fp32_reused}
    if precision == "int8":
        int8_dir, int8_meta, int8_reused = _openvino_int8_ir(workload, xml)
        costs["calibrate_s"] = int8_meta["calibrate_s"]
        record.update(
            calibration_batches=int8_meta["calibration_batches"], int8_reused_from_cache=int8_reused
        )
        xml = int8_dir / "model.xml"

    # --8<-- [start:openvino-compile]
    core = ov.Core()
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads}
    if precision == "f32":
        config["INFERENCE_PRECISION_HINT"] = "f32"  # otherwise the CPU plugin may choose bf16
    start = time.perf_counter()
    compiled = core.compile_model(core.read_model(xml), "CPU", config)
    costs["compile_s"] = time.perf_counter() - start
    hint = compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
    # --8<-- [end:openvino-compile]

    every, heavy = _runtime_precisions(compiled)
    if precision == "f32" and (hint != "f32" or set(heavy) - {"f32"}):
        raise RuntimeError(f"OpenVINO was asked for f32 but runs hint {hint}, heavy layers {heavy}")

    # Parity: strict where the engine computes in FP32; bf16 and int8 are judged by the quality
    # metrics instead, after a shape check here.
    worst = 0.0
    for inputs in workload.parity_inputs():
        worst = max(worst, _max_abs_diff(compiled(inputs)[0], _eager(model, inputs), "OpenVINO"))
    strict = precision != "int8" and hint == "f32"
    if strict:
        _check_parity(worst, workload.PARITY_ATOL, "OpenVINO")
    del model

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        request = compiled.create_infer_request()
        for name, value in inputs.items():
            request.set_tensor(name, ov.Tensor(np.ascontiguousarray(value)))
        return request.infer

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return np.array(compiled(inputs)[0])

    heavy_text = ", ".join(f"{p}×{n}" for p, n in heavy.items())
    label = {"f32": "f32", "default": hint, "int8": f"int8 (NNCF) + {hint}"}[precision]
    record.update(
        {
            "engine": "openvino",
            "openvino": ov.get_version(),
            "precision": f"{label}; heavy layers {heavy_text}",
            "inference_precision_hint": hint,
            "precision_hint_set": config.get("INFERENCE_PRECISION_HINT", "not set (OpenVINO default)"),
            "runtime_precisions": every,
            "heavy_layer_precisions": heavy,
            "heavy_layers": heavy_text,
            "performance_hint": str(compiled.get_property("PERFORMANCE_HINT")).split(".")[-1],
            "num_streams": str(compiled.get_property("NUM_STREAMS")),
            "intra_op_threads": compiled.get_property("INFERENCE_NUM_THREADS"),
            "input_shapes": fp32_meta["input_shapes"],
            "shapes": "dynamic: the converted model keeps every input axis dynamic; no per-point reshape",
            "parity_max_abs_diff": worst,
            "parity_checked": "strict" if strict else "shape only (quality metrics judge bf16/int8)",
            "parity_tolerance": workload.PARITY_ATOL,
        }
    )
    return Variant(bind, predict, record, costs)


# ---- LiteRT (TensorFlow Lite) ----------------------------------------------------------------


def _litert_file(workload: ModuleType, model: Any, inputs: dict[str, np.ndarray]) -> tuple[Path, dict, bool]:
    def make(folder: Path) -> dict[str, Any]:
        import litert_torch  # slow to import: only when a file must be converted

        # --8<-- [start:litert-convert]
        sample_args = tuple(_torch_inputs(inputs)[name] for name in workload.INPUT_NAMES)
        start = time.perf_counter()
        edge_model = litert_torch.convert(model.eval(), sample_args)  # static shapes
        convert_s = time.perf_counter() - start
        edge_model.export(str(folder / "model.tflite"))
        # --8<-- [end:litert-convert]
        return {"convert_s": convert_s}

    shape = {k: list(v.shape) for k, v in inputs.items()}
    key = _source_key(workload, _litert_file, shape=shape, litert_torch=version("litert-torch"))
    return _artifact(f"litert-{workload.NAME}", key, make)


def build_litert(workload: ModuleType, options: dict, threads: int, workdir: Path) -> Variant:
    """Convert with litert_torch (one .tflite per input shape) and run LiteRT's interpreter.

    Options of its tuned form (a recipe candidate): ``threads``, the interpreter's own thread count
    (the run's when absent), and ``bound``: the inputs are copied into the interpreter once, not
    before every call (as ONNX Runtime's IO binding does; again whenever another input was set)."""
    import torch
    from ai_edge_litert.interpreter import Interpreter

    from benchmarks.engines import Variant

    torch.set_num_threads(threads)
    threads = int(options.get("threads", threads))
    bound = bool(options.get("bound"))
    model = workload.torch_model()
    reused: list[str] = []

    def prepare(inputs: dict[str, np.ndarray]) -> tuple[Callable[..., Callable[[], Any]], float]:
        folder, meta, was_cached = _litert_file(workload, model, inputs)
        if was_cached:
            reused.append(_shape_label(inputs))
        # --8<-- [start:litert-run]
        interpreter = Interpreter(model_path=str(folder / "model.tflite"), num_threads=threads)
        interpreter.allocate_tensors()
        # Inputs are named serving_default_args_<position>; 64-bit inputs were narrowed to 32 bits.
        slots = {d["name"].rsplit("_", 1)[-1]: d for d in interpreter.get_input_details()}
        output = interpreter.get_output_details()[0]["index"]
        last_set: list[Any] = [None]  # the feeds now in the interpreter's input tensors

        def make_call(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
            feeds = [
                (slots[str(i)]["index"], inputs[name].astype(slots[str(i)]["dtype"]))
                for i, name in enumerate(workload.INPUT_NAMES)
            ]

            def call() -> np.ndarray:
                if not bound or last_set[0] is not feeds:
                    for index, value in feeds:
                        interpreter.set_tensor(index, value)
                    last_set[0] = feeds
                interpreter.invoke()
                return interpreter.get_tensor(output)

            return call

        # --8<-- [end:litert-run]
        return make_call, meta["convert_s"]

    record: dict[str, Any] = {
        "engine": "litert",
        "converter": f"litert_torch {version('litert-torch')}",
        "runtime": f"ai_edge_litert {version('ai-edge-litert')}",
        "precision": "fp32",
        "intra_op_threads": threads,
        "inputs": "set once, bound to the request" if bound else "set before every call",
        "delegate": "XNNPACK (applied by default on CPU)",
        "shapes": "static: one .tflite per input shape",
        "reused_from_cache": reused,
    }
    costs: dict[str, float] = {}
    shapes = StaticShapes("LiteRT", workload, model, prepare, "convert_s", record, costs)
    shapes.build()
    return Variant(shapes.bind, shapes.predict, record, costs)


# ---- experiments -----------------------------------------------------------------------------

MODULE = "benchmarks.techniques.inference_engines"
TORCH_COMPILE = VariantSpec(
    "torch-compile",
    "torch.compile (Inductor) FP32",
    "torch.compile(Inductor)FP32",
    f"{MODULE}:build_torch_compile",
)
OPENVINO_F32 = VariantSpec(
    "openvino-f32",
    "OpenVINO, precision hint f32",
    "OpenVINO,精度提示 f32",
    f"{MODULE}:build_openvino",
    {"precision": "f32"},
    ("openvino",),
)
OPENVINO_DEFAULT = VariantSpec(
    "openvino-default",
    "OpenVINO, default settings (may run bf16)",
    "OpenVINO,默认设置(可能以 bf16 运行)",
    f"{MODULE}:build_openvino",
    {"precision": "default"},
    ("openvino",),
)
OPENVINO_INT8 = VariantSpec(
    "openvino-int8",
    "OpenVINO INT8 (NNCF post-training quantization)",
    "OpenVINO INT8(NNCF 训练后量化)",
    f"{MODULE}:build_openvino",
    {"precision": "int8"},
    ("openvino", "nncf"),
)
LITERT = VariantSpec(
    "litert",
    "LiteRT (TensorFlow Lite) FP32, XNNPACK",
    "LiteRT(TensorFlow Lite)FP32,XNNPACK",
    f"{MODULE}:build_litert",
    packages=("litert-torch", "ai-edge-litert"),
)


def _batches(*batches: int) -> tuple[dict[str, int], ...]:
    return tuple({"batch": b} for b in batches)


def _tokens(*batches: int, seq_len: int = 128) -> tuple[dict[str, int], ...]:
    # Six engines share two cores: every point costs each of them its timed rounds, and every
    # compiled or converted shape costs seconds up front, so the default grid keeps only the
    # batch-1 reference point (whose program is also the one evaluation runs); the full grid
    # adds batches.
    return tuple({"batch": b, "seq_len": seq_len} for b in batches)


EXPERIMENTS = [
    Experiment(
        name="engines/digits-cnn",
        technique="engines",
        workload="digits-cnn",
        variants=(
            PYTORCH_EAGER,
            ORT_ALL,
            TORCH_COMPILE,
            OPENVINO_F32,
            OPENVINO_DEFAULT,
            OPENVINO_INT8,
            LITERT,
        ),
        grids={"toy": _batches(1, 8), "default": _batches(1, 256), "full": _batches(1, 32, 256)},
    ),
    Experiment(
        name="engines/minilm",
        technique="engines",
        workload="minilm",
        variants=(PYTORCH_EAGER, ORT_ALL, TORCH_COMPILE, OPENVINO_F32, OPENVINO_DEFAULT, OPENVINO_INT8),
        grids={"toy": _tokens(1), "default": _tokens(1), "full": _tokens(1, 8, 32)},
    ),
    # LiteRT's MiniLM conversion is its own experiment: should it fail, the failure is recorded
    # without erasing the other engines' figures.
    Experiment(
        name="engines/minilm-litert",
        technique="engines",
        workload="minilm",
        variants=(PYTORCH_EAGER, LITERT),
        grids={"toy": _tokens(1), "default": _tokens(1), "full": _tokens(1, 8)},
    ),
    Experiment(
        name="engines/resnet50",
        technique="engines",
        workload="resnet50",
        variants=(PYTORCH_EAGER, ORT_ALL, OPENVINO_F32, OPENVINO_DEFAULT, OPENVINO_INT8),
        grids={"toy": _batches(1), "default": _batches(1), "full": _batches(1, 8)},
    ),
]


# ---- verdicts --------------------------------------------------------------------------------

BASELINE = PYTORCH_EAGER.name
# The frameworks' own CPU paths (claim C7): PyTorch eager and compiled, and the TensorFlow
# family's runtime, LiteRT.
FRAMEWORK_PATHS = (BASELINE, TORCH_COMPILE.name, LITERT.name)
# Dedicated inference engines (claim C10): ONNX Runtime, OpenVINO and LiteRT (TensorFlow Lite).
ENGINE_PATHS = (ORT_ALL.name, OPENVINO_F32.name, OPENVINO_DEFAULT.name, OPENVINO_INT8.name, LITERT.name)
C7_MAX_GAP = 1.25
C10_MIN_SPEEDUP = 1.2
WORKLOAD_EXPERIMENTS = {
    "digits-cnn": ("engines/digits-cnn",),
    "minilm": ("engines/minilm", "engines/minilm-litert"),
    "resnet50": ("engines/resnet50",),
}
C7_EXPERIMENTS = tuple(e for group in WORKLOAD_EXPERIMENTS.values() for e in group)
C10_EXPERIMENTS = tuple(group[0] for group in WORKLOAD_EXPERIMENTS.values())


def _labels(result: ExperimentResult) -> dict[str, tuple[str, str]]:
    return {v["name"]: (v["label"], v.get("label_zh", v["label"])) for v in result.config["variants"]}


def _point_text(params: dict[str, int]) -> tuple[str, str]:
    names = {"batch": ("batch", "批大小"), "seq_len": ("seq", "序列"), "image_size": ("image", "图像")}
    en = ", ".join(f"{names.get(k, (k, k))[0]} {v}" for k, v in params.items())
    zh = ",".join(f"{names.get(k, (k, k))[1]} {v}" for k, v in params.items())
    return en, zh


def candidates_at(
    results: dict[str, ExperimentResult], workload: str, params: dict[str, int], names: tuple[str, ...]
) -> list[tuple[str, str, str, float]]:
    """(variant, label, label_zh, paired speedup over eager) of the named variants at one point that
    meet the workload's quality bar; eager itself counts as 1.0. Variants of the same workload
    measured in a companion experiment are compared through their own paired speedup over eager."""
    from benchmarks import workloads

    module = workloads.get(workload)
    found = []
    for exp in WORKLOAD_EXPERIMENTS[workload]:
        result = results.get(exp)
        if result is None:
            continue
        entry = next((p for p in result.points if p["params"] == params), None)
        if entry is None:
            continue
        labels = _labels(result)
        base_quality = quality(result, BASELINE)
        for name, row in entry["variants"].items():
            if name not in names or any(c[0] == name for c in found):
                continue
            if not module.meets_bar(quality(result, name), base_quality):
                continue
            ratio = 1.0 if name == BASELINE else row["speedup"]["median"]
            found.append((name, *labels[name], ratio))
    return found


def _precision_note(results: dict[str, ExperimentResult]) -> tuple[str, str]:
    """What OpenVINO's default settings ran in, and what that cost in quality, per workload."""
    en, zh = [], []
    for workload, group in WORKLOAD_EXPERIMENTS.items():
        result = results[group[0]]
        names = {v["name"] for v in result.config["variants"]}
        if not {OPENVINO_F32.name, OPENVINO_DEFAULT.name} <= names:
            continue
        hint = info(result, OPENVINO_DEFAULT.name).get("inference_precision_hint", "?")
        metric = "accuracy" if "accuracy" in quality(result, BASELINE) else "cosine_min"
        shown = "{:.2%}" if metric == "accuracy" else "{:.6f}"
        f32, default = (
            shown.format(quality(result, n)[metric]) for n in (OPENVINO_F32.name, OPENVINO_DEFAULT.name)
        )
        names = {"accuracy": ("test accuracy", "测试准确率"), "cosine_min": ("min cosine", "最小余弦相似度")}
        en.append(
            f"{workload}: default precision {hint}, {names[metric][0]} {f32} with f32, {default} default"
        )
        zh.append(f"{workload}:默认精度 {hint},{names[metric][1]} f32 为 {f32},默认为 {default}")
    return "; ".join(en), ";".join(zh)


def judge_c7(results: dict[str, ExperimentResult]) -> Finding:
    rows_en, rows_zh, gaps = [], [], []
    for workload, group in WORKLOAD_EXPERIMENTS.items():
        for point in results[group[0]].points:
            params = point["params"]
            every = candidates_at(results, workload, params, FRAMEWORK_PATHS + ENGINE_PATHS)
            native = [c for c in every if c[0] in FRAMEWORK_PATHS]
            if not native:
                continue
            best_native = max(native, key=lambda c: c[3])
            fastest = max(every, key=lambda c: c[3])
            gap = fastest[3] / best_native[3]
            gaps.append(gap)
            where_en, where_zh = _point_text(params)
            paths_en = ", ".join(f"{c[1]} {c[3]:.2f}×" for c in native)
            paths_zh = "、".join(f"{c[2]} {c[3]:.2f}×" for c in native)
            rows_en.append(
                f"{workload} ({where_en}): framework paths {paths_en}; fastest {fastest[1]} "
                f"{fastest[3]:.2f}×; gap {gap:.2f}×"
            )
            rows_zh.append(
                f"{workload}({where_zh}):框架路径 {paths_zh};最快 {fastest[2]} {fastest[3]:.2f}×;"
                f"差距 {gap:.2f}×"
            )
    if not gaps:
        return Finding(
            "not-measurable",
            "no measured point had a framework path within the quality bar.",
            "没有任何测量点上的框架路径满足质量门槛。",
        )
    close = sum(g <= C7_MAX_GAP for g in gaps)
    outcome = "holds" if close == len(gaps) else "does-not-hold" if close == 0 else "partly"
    head_en = f"{close} of {len(gaps)} points within {C7_MAX_GAP}× (speedups over PyTorch eager): "
    head_zh = f"{len(gaps)} 个测量点中有 {close} 个差距不超过 {C7_MAX_GAP}×(相对 PyTorch eager 的加速比):"
    return Finding(outcome, head_en + "; ".join(rows_en) + ".", head_zh + ";".join(rows_zh) + "。")


def judge_c10(results: dict[str, ExperimentResult]) -> Finding:
    rows_en, rows_zh = [], []
    per_workload: list[bool] = []
    for workload, group in WORKLOAD_EXPERIMENTS.items():
        result = results[group[0]]
        points = [p["params"] for p in result.points if p["params"].get("batch") == 1]
        passed = bool(points)
        for params in points:
            where_en, where_zh = _point_text(params)
            engines = [c for c in candidates_at(results, workload, params, ENGINE_PATHS) if c[0] != BASELINE]
            if not engines:
                passed = False
                rows_en.append(f"{workload} ({where_en}): no engine meets the quality bar")
                rows_zh.append(f"{workload}({where_zh}):没有推理引擎满足质量门槛")
                continue
            best = max(engines, key=lambda c: c[3])
            passed &= best[3] >= C10_MIN_SPEEDUP
            rows_en.append(f"{workload} ({where_en}): best engine {best[1]} {best[3]:.2f}×")
            rows_zh.append(f"{workload}({where_zh}):最佳推理引擎 {best[2]} {best[3]:.2f}×")
        per_workload.append(passed)
    outcome = "holds" if all(per_workload) else "partly" if any(per_workload) else "does-not-hold"
    note_en, note_zh = _precision_note(results)
    return Finding(
        outcome,
        "; ".join(rows_en) + f". OpenVINO's own defaults: {note_en}.",
        ";".join(rows_zh) + f"。OpenVINO 默认设置:{note_zh}。",
    )


VERDICTS = [
    Verdict(
        claim="C7",
        experiments=C7_EXPERIMENTS,
        rule=(
            "The frameworks' own CPU paths are PyTorch eager, torch.compile and LiteRT (the TensorFlow "
            "family's runtime). At every measured point of every workload (digits CNN, MiniLM, ResNet-50), "
            "the best framework path is compared with the fastest variant of any engine measured there, "
            "both among variants that meet the workload's quality bar and both as median paired speedups "
            f"over PyTorch eager. Holds if the fastest is at most {C7_MAX_GAP}× faster than the best "
            f"framework path at every point (the frameworks are already optimised for the CPU); does not "
            f"hold if it is more than {C7_MAX_GAP}× faster at every point; partly holds otherwise."
        ),
        rule_zh=(
            "框架自身的 CPU 路径指 PyTorch eager、torch.compile 和 LiteRT(TensorFlow 家族的运行时)。"
            "在每个工作负载(手写数字 CNN、MiniLM、ResNet-50)的每个测量点上,把最佳框架路径与该处测得的任何"
            "引擎的最快变体相比,两者都只取满足该工作负载质量门槛的变体,"
            "都用相对 PyTorch eager 的成对轮次加速比中位数。"
            f"若每个测量点上最快变体都不超过最佳框架路径的 {C7_MAX_GAP} 倍(即框架已针对 CPU 优化),"
            f"则成立;若每个测量点上都超过 {C7_MAX_GAP} 倍,则不成立;其余情况为部分成立。"
        ),
        judge=judge_c7,
    ),
    Verdict(
        claim="C10",
        experiments=C10_EXPERIMENTS,
        rule=(
            "Inference engines are ONNX Runtime, OpenVINO (f32, default settings, INT8) and LiteRT "
            "(TensorFlow Lite, measured on the digits CNN here). Holds if, on every workload (digits CNN, "
            "MiniLM, ResNet-50), the fastest engine variant that meets the workload's quality bar is at "
            f"least {C10_MIN_SPEEDUP}× faster than PyTorch eager FP32 (median paired speedup) at every "
            "batch-1 point; does not hold if no workload reaches that; partly holds otherwise."
        ),
        rule_zh=(
            "推理引擎指 ONNX Runtime、OpenVINO(f32、默认设置、INT8)和 LiteRT(TensorFlow Lite,此处在手写数字"
            "CNN 上测量)。若在每个工作负载(手写数字 CNN、MiniLM、ResNet-50)批大小为 1 的每个测量点上,满足"
            f"该工作负载质量门槛的最快推理引擎变体都比 PyTorch eager FP32 快至少 {C10_MIN_SPEEDUP} 倍"
            "(成对轮次加速比中位数),则成立;若没有任何工作负载做到,则不成立;其余情况为部分成立。"
        ),
        judge=judge_c10,
    ),
]
