"""A small CNN trained at build time on scikit-learn's bundled handwritten digits.

Real labels, a fixed seed and a held-out, stratified test split; test accuracy
is the quality metric. Trained weights are kept in the artifact store
(``benchmarks.store``), keyed by the settings, the code that trains them and the
versions of torch and scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

NAME = "digits-cnn"
TITLE = "Digits CNN (trained here on scikit-learn's 8x8 handwritten digits)"
INPUT_NAMES = ("images",)
PARITY_ATOL = 1e-4
QUALITY_KIND = "accuracy"
REFERENCE_POINT = {"batch": 1}
QUALITY_BAR = "test accuracy at most 1 point below the FP32 PyTorch model's"
QUALITY_BAR_ZH = "测试准确率比 FP32 PyTorch 模型低不超过 1 个百分点"
PACKAGES = ("scikit-learn",)


@dataclass(frozen=True)
class TrainSettings:
    width: int = 16
    hidden: int = 64
    epochs: int = 40
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    test_fraction: float = 0.25
    seed: int = 0


SETTINGS = TrainSettings()


@cache
def dataset(test_fraction: float = SETTINGS.test_fraction, seed: int = SETTINGS.seed):
    """Images scaled to [0, 1] as (N, 1, 8, 8) float32, with a stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    return train_test_split(images, labels, test_size=test_fraction, stratify=labels, random_state=seed)


def build_model(width: int = SETTINGS.width, hidden: int = SETTINGS.hidden):
    import torch
    from torch import nn

    class DigitsCNN(nn.Module):
        """Two 3x3 convolutions, one pooling, two dense layers; input (N, 1, 8, 8)."""

        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, width, 3, padding=1),
                nn.ReLU(),
                nn.Conv2d(width, 2 * width, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
            )
            self.classifier = nn.Sequential(
                nn.Flatten(),
                nn.Linear(2 * width * 4 * 4, hidden),
                nn.ReLU(),
                nn.Linear(hidden, 10),
            )

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return self.classifier(self.features(images))

    return DigitsCNN()


def fit(
    model: Any,
    xs: Any,
    ys: Any,
    *,
    epochs: int,
    lr: float,
    seed: int,
    batch_size: int | None = None,
    after_step: Callable[[], None] | None = None,
    settings: TrainSettings = SETTINGS,
) -> float:
    """The digits models' training loop (``training.fit_classifier``): AdamW with the
    settings' weight decay, cross-entropy, shuffled mini-batches; ``after_step`` runs after
    each update. Returns the seconds spent."""
    from benchmarks import training

    recipe = training.Recipe(
        lr=lr,
        batch=batch_size or settings.batch_size,
        epochs=epochs,
        weight_decay=settings.weight_decay,
        seed=seed,
    )
    return training.fit_classifier(model, xs, ys, recipe, after_step=after_step)


def train(settings: TrainSettings = SETTINGS):
    """Train from a fixed seed; returns the model and what training cost."""
    import torch

    torch.manual_seed(settings.seed)
    x_train, x_test, y_train, y_test = dataset(settings.test_fraction, settings.seed)
    model = build_model(settings.width, settings.hidden)
    xs, ys = torch.from_numpy(x_train), torch.from_numpy(y_train)
    train_s = fit(
        model, xs, ys, epochs=settings.epochs, lr=settings.lr, seed=settings.seed, settings=settings
    )
    with torch.inference_mode():
        accuracy = float((model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean())
    return model, {"train_s": train_s, "test_accuracy": accuracy, "epochs": settings.epochs}


def _stored(settings: TrainSettings) -> tuple[Path, dict[str, Any] | None]:
    """The stored weights for these settings, trained first when missing or unreadable;
    with what training cost when they were trained by this call."""
    import torch

    from benchmarks import store, training

    made: dict[str, Any] = {}

    def make(path: Path) -> None:
        model, made["training"] = train(settings)
        torch.save({"state_dict": model.state_dict(), "training": made["training"]}, path)

    def check(path: Path) -> None:
        checkpoint = torch.load(path, weights_only=True)
        build_model(settings.width, settings.hidden).load_state_dict(checkpoint["state_dict"])
        if "test_accuracy" not in checkpoint["training"]:
            raise ValueError("no training record")

    path = store.artifact(
        "digits_cnn",
        {"settings": asdict(settings)},
        make,
        code=(dataset, build_model, fit, train, training.fit_classifier, training.make_optimiser),
        packages=("torch", *PACKAGES),
        suffix=".pt",
        check=check,
    )
    return path, made.get("training")


def weights_path(settings: TrainSettings = SETTINGS) -> Path:
    """Where the weights trained with ``settings`` are stored (trained first if missing)."""
    return _stored(settings)[0]


def prepare(settings: TrainSettings = SETTINGS) -> dict[str, Any]:
    """Train unless weights for these settings and this code are stored; what training cost."""
    import torch

    path, training = _stored(settings)
    if training is not None:
        return {**training, "cached": False}
    return {**torch.load(path, weights_only=True)["training"], "cached": True}


def torch_model():
    import torch

    model = build_model()
    model.load_state_dict(torch.load(weights_path(SETTINGS), weights_only=True)["state_dict"])
    return model.eval()


def timing_inputs(point: dict[str, int]) -> dict[str, np.ndarray]:
    x_test = dataset()[1]
    idx = np.arange(point["batch"]) % len(x_test)
    return {"images": np.ascontiguousarray(x_test[idx])}


def example_inputs() -> dict[str, np.ndarray]:
    return timing_inputs({"batch": 2})


def parity_inputs() -> list[dict[str, np.ndarray]]:
    return [timing_inputs({"batch": 1}), timing_inputs({"batch": 37})]


def eval_batches(limit: int | None = None) -> list[dict[str, np.ndarray]]:
    x_test = dataset()[1][:limit]
    return [{"images": x_test[i : i + 128]} for i in range(0, len(x_test), 128)]


def quality(outputs: np.ndarray, reference: np.ndarray | None) -> dict[str, float]:
    """Test accuracy on real labels, and agreement with the FP32 PyTorch predictions."""
    labels = dataset()[3][: len(outputs)]
    predicted = outputs.argmax(axis=1)
    metrics = {"accuracy": float((predicted == labels).mean()), "n_images": len(labels)}
    if reference is not None:
        metrics["agreement_with_fp32"] = float((predicted == reference.argmax(axis=1)).mean())
    return metrics


def meets_bar(metrics: dict[str, float], baseline: dict[str, float]) -> bool:
    return metrics["accuracy"] >= baseline["accuracy"] - 0.01
