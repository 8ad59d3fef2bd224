"""A ResNet-50 (the standard 224x224 ImageNet architecture) with random, seeded weights.

It stands for the standard-size vision models that real services run; its
weights are random because no pretrained ResNet ships in a pip package and
nothing is downloaded. Its figures are therefore latency and fidelity only
(agreement with the FP32 PyTorch model), never accuracy, and pages say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

NAME = "resnet50"
TITLE = "ResNet-50 (standard architecture, random weights: latency and fidelity only)"
INPUT_NAMES = ("images",)
PARITY_ATOL = 1e-3
QUALITY_KIND = "fidelity"
REFERENCE_POINT = {"batch": 1}
QUALITY_BAR = "mean logit cosine >= 0.99 and top-1 agreement >= 95% against FP32 PyTorch (random weights)"
QUALITY_BAR_ZH = "与 FP32 PyTorch 的平均 logit 余弦相似度 >= 0.99,且 top-1 一致率 >= 95%(随机权重)"
PACKAGES: tuple[str, ...] = ()
SEED = 0
IMAGE_SIZE = 224
# Exported graphs keep height and width dynamic (the parity inputs use two sizes).
DYNAMIC_IMAGE_SIZE = True
EVAL_IMAGES = 32  # fidelity of random weights: every variant so far scored 1.0 or far below the bar
EVAL_BATCH = 16


def build_model(width: int = 64, blocks: tuple[int, ...] = (3, 4, 6, 3), classes: int = 1000):
    """The torchvision-equivalent ResNet-50 (bottleneck blocks, stride on the 3x3 convolution)."""
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, inplanes: int, planes: int, stride: int) -> None:
            super().__init__()
            out = planes * 4
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(out)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or inplanes != out:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inplanes, out, 1, stride, bias=False), nn.BatchNorm2d(out)
                )

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)))
            return self.relu(self.bn3(self.conv3(y)) + identity)

    class ResNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(
                nn.Conv2d(3, width, 7, 2, 3, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, 1),
            )
            layers, inplanes = [], width
            for stage, count in enumerate(blocks):
                planes = width * 2**stage
                for i in range(count):
                    layers.append(Bottleneck(inplanes, planes, 2 if i == 0 and stage > 0 else 1))
                    inplanes = planes * 4
            self.layers = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(inplanes, classes)

        def forward(self, images):
            return self.fc(self.pool(self.layers(self.stem(images))).flatten(1))

    return ResNet()


def prepare() -> dict[str, Any]:
    return {}


def torch_model():
    """The seeded model, from the artifact store when this code and torch's version made it
    (0.18 s to load against 0.7 s to build alone, and about 20 builds in a run)."""
    import torch

    from benchmarks import store

    model = build_model()
    loaded: list[bool] = []

    def make(path: Path) -> None:
        torch.save(_seeded_model().state_dict(), path)

    def check(path: Path) -> None:  # missing keys, a truncated or foreign file: build it again
        model.load_state_dict(torch.load(path, weights_only=True, mmap=True))
        loaded.append(True)

    path = store.artifact(
        "resnet50",
        {"seed": SEED},
        make,
        code=(build_model, _seeded_model, _images),
        packages=("torch",),
        suffix=".pt",
        check=check,
    )
    if not loaded:
        model.load_state_dict(torch.load(path, weights_only=True, mmap=True))
    return model.eval()


def _seeded_model():
    import torch
    from torch import nn

    torch.manual_seed(SEED)
    model = build_model()
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    # A random deep network's features collapse to nearly one direction, and then
    # every image gets the same class. Setting BatchNorm statistics from one batch
    # of images (as after training) keeps features diverse, so fidelity means something.
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None  # cumulative average over the calibration batch
    model.train()
    with torch.no_grad():
        model(torch.from_numpy(_images(16, 128, seed=3)))
    return model.eval()


def _images(count: int, size: int, seed: int) -> np.ndarray:
    """Smooth random images (normalised like ImageNet inputs), not white noise."""
    rng = np.random.default_rng(seed)
    coarse = rng.standard_normal((count, 3, size // 16 + 1, size // 16 + 1)).astype(np.float32)
    images = np.repeat(np.repeat(coarse, 16, axis=2), 16, axis=3)[:, :, :size, :size]
    images += 0.3 * rng.standard_normal(images.shape).astype(np.float32)
    return np.ascontiguousarray(images)


def timing_inputs(point: dict[str, int]) -> dict[str, np.ndarray]:
    return {"images": _images(point["batch"], point.get("image_size", IMAGE_SIZE), seed=1)}


def example_inputs() -> dict[str, np.ndarray]:
    return timing_inputs({"batch": 2, "image_size": 64})


def parity_inputs() -> list[dict[str, np.ndarray]]:
    return [timing_inputs({"batch": 1}), timing_inputs({"batch": 3, "image_size": 96})]


def eval_batches(limit: int | None = None) -> list[dict[str, np.ndarray]]:
    images = _images(EVAL_IMAGES, IMAGE_SIZE, seed=2)[:limit]
    return [{"images": images[i : i + EVAL_BATCH]} for i in range(0, len(images), EVAL_BATCH)]


def quality(outputs: np.ndarray, reference: np.ndarray | None) -> dict[str, float]:
    """Fidelity of logits to the FP32 PyTorch model: cosine and top-1 agreement.

    With random weights, all images share a large common logit component; both
    sets are centred on the reference's mean over the evaluation images first,
    so the metrics compare what distinguishes one image from another.
    """
    if reference is None:
        raise ValueError("ResNet-50 fidelity needs the FP32 PyTorch reference logits")
    centre = reference.astype(np.float64).mean(axis=0)
    out, ref = outputs.astype(np.float64) - centre, reference.astype(np.float64) - centre
    cosine = np.sum(out * ref, axis=1) / (np.linalg.norm(out, axis=1) * np.linalg.norm(ref, axis=1))
    return {
        "cosine_mean": float(cosine.mean()),
        "cosine_min": float(cosine.min()),
        "top1_agreement": float(np.mean(out.argmax(1) == ref.argmax(1))),
        "n_images": len(out),
    }


def meets_bar(metrics: dict[str, float], baseline: dict[str, float]) -> bool:
    return metrics["cosine_mean"] >= 0.99 and metrics["top1_agreement"] >= 0.95
