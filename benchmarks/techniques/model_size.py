"""Model size (C8): a width and depth sweep of the digits CNN, each size trained alike.

Top-level imports stay light: torch loads inside the builders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks.engines.pytorch import one_thread
from benchmarks.experiments import Experiment, VariantSpec
from benchmarks.points import grid
from benchmarks.store import artifact
from benchmarks.workloads.digits_cnn import fit

DIGITS_BASE = {"width": 16, "depth": 2, "hidden": 64}  # the workload's own network


def build_sized_cnn(width: int, depth: int, hidden: int = 64):
    """The digits CNN family: ``depth`` 3x3 convolutions (widths w, 2w, 2w, ...), one pooling, two dense.

    ``depth=2`` is exactly the workload's network.
    """
    from torch import nn

    layers: list[nn.Module] = []
    channels = 1
    for i in range(depth):
        out = width if i == 0 else 2 * width
        layers += [nn.Conv2d(channels, out, 3, padding=1), nn.ReLU()]
        channels = out
    layers.append(nn.MaxPool2d(2))

    class SizedCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(
                nn.Flatten(), nn.Linear(channels * 4 * 4, hidden), nn.ReLU(), nn.Linear(hidden, 10)
            )

        def forward(self, images):
            return self.classifier(self.features(images))

    return SizedCNN()


def stored_weights(
    kind: str,
    inputs: dict[str, Any],
    train: Callable[[], tuple[Any, dict[str, Any]]],
    code: tuple[Callable[..., Any], ...],
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The state dict and record of ``train()``'s model, trained once and kept in the artifact
    store (keyed by ``inputs``, the source of ``code`` and torch's version), and whether they
    were stored before this call."""
    import torch

    made: list[bool] = []

    def make(path: Path) -> None:
        model, record = train()
        torch.save({"state_dict": model.state_dict(), "record": record}, path)
        made.append(True)

    def load(path: Path) -> dict[str, Any]:
        return torch.load(path, weights_only=True)

    payload = load(artifact(kind, inputs, make, code=code, packages=("torch",), suffix=".pt", check=load))
    return payload["state_dict"], payload["record"], not made


# --8<-- [start:sized]
def train_sized(width: int, depth: int, hidden: int = 64):
    """Train one size with the workload's recipe on the train split only."""
    import torch

    from benchmarks.workloads.digits_cnn import SETTINGS, dataset

    torch.manual_seed(SETTINGS.seed)
    model = build_sized_cnn(width, depth, hidden)
    x_train, _, y_train, _ = dataset()
    with one_thread():
        xs, ys = torch.from_numpy(x_train), torch.from_numpy(y_train)
        train_s = fit(model, xs, ys, epochs=SETTINGS.epochs, lr=SETTINGS.lr, seed=0)
    return model.eval(), {"train_s": train_s, "epochs": SETTINGS.epochs}


# --8<-- [end:sized]


def sized_model(width: int, depth: int, hidden: int = 64):
    """``train_sized``'s model, trained once and kept in the artifact store."""
    from benchmarks.workloads.digits_cnn import SETTINGS

    model = build_sized_cnn(width, depth, hidden)
    settings = {"width": width, "depth": depth, "hidden": hidden, "recipe": str(SETTINGS)}
    state, training, cached = stored_weights(
        "digits-sized",
        settings,
        lambda: train_sized(width, depth, hidden),
        (build_sized_cnn, fit, train_sized),
    )
    model.load_state_dict(state)
    return model.eval(), {**training, "cached": cached}


def build_model_size(workload: ModuleType, options: dict, threads: int, workdir: Path):
    import torch

    from benchmarks.engines.pytorch import torch_variant
    from benchmarks.model_stats import count_flops

    torch.set_num_threads(threads)
    width, depth = int(options["width"]), int(options["depth"])
    model, training = sized_model(width, depth, DIGITS_BASE["hidden"])
    flops = count_flops(model, workload.timing_inputs({"batch": 1}))
    return torch_variant(
        model,
        {"train_s": training["train_s"]},
        method="model-size",
        width=width,
        depth=depth,
        hidden=DIGITS_BASE["hidden"],
        flops_per_image=flops,
        epochs=training["epochs"],
        weights_cached=training["cached"],
    )


def build_base_size(workload: ModuleType, options: dict, threads: int, workdir: Path):
    """The workload's own network as the sweep's baseline, with the same fields recorded."""
    from benchmarks.engines.pytorch import build_pytorch_eager
    from benchmarks.model_stats import count_flops

    variant = build_pytorch_eager(workload, options, threads, workdir)
    flops = count_flops(workload.torch_model(), workload.timing_inputs({"batch": 1}))
    variant.info |= {"method": "model-size", **DIGITS_BASE, "flops_per_image": flops}
    return variant


SIZES = ((4, 2), (8, 2), (32, 2), (16, 1))
SIZE_VARIANTS = (
    VariantSpec(
        "pytorch-eager",
        "PyTorch eager FP32 (width 16, 2 convolutions: the workload's network)",
        "PyTorch eager FP32(宽度 16,2 个卷积层:工作负载自带网络)",
        "benchmarks.techniques.model_size:build_base_size",
    ),
    *(
        VariantSpec(
            f"w{w}-d{d}",
            f"width {w}, {d} convolution{'s' if d > 1 else ''}",
            f"宽度 {w},{d} 个卷积层",
            "benchmarks.techniques.model_size:build_model_size",
            {"width": w, "depth": d},
        )
        for w, d in SIZES
    ),
)


# The technique stays "principles": the page's name, stored in every result's configuration.
EXPERIMENTS = [
    Experiment(
        name="model-size/digits-cnn",
        technique="principles",
        workload="digits-cnn",
        variants=SIZE_VARIANTS,
        grids={"toy": grid((1, 64)), "default": grid((1, 256)), "full": grid((1, 32, 256, 2048))},
    ),
]
