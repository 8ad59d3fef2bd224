"""Section 3 of the article (inference), measured: input/output handling (C11), caching (C12),
and whether a CPU is enough for small models (C13, read from other experiments).

Both experiments time the whole request path, from text to embedding, so the
tokenizer is inside the timed call; each variant's ``predict`` runs that same
path on the evaluation sentences, so fidelity is checked on what is timed.

Top-level imports stay light: torch and transformers load inside builders.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.experiments import Experiment, VariantSpec

SEED = 0


def _grid(batches: tuple[int, ...], seq_lens: tuple[int, ...]) -> tuple[dict[str, int], ...]:
    return tuple({"batch": b, "seq_len": s} for b in batches for s in seq_lens)


def _texts_by_tokens(workload: ModuleType) -> dict[bytes, str]:
    """Each evaluation sentence keyed by its token ids, so ``predict`` can start again from text."""
    texts = workload.eval_texts()
    enc = workload.tokenizer()(texts, truncation=True, max_length=workload.EVAL_MAX_LENGTH)
    return {np.asarray(ids, np.int64).tobytes(): t for ids, t in zip(enc["input_ids"], texts, strict=True)}


def _texts_of(inputs: dict[str, np.ndarray], lookup: dict[bytes, str]) -> list[str]:
    rows = zip(inputs["input_ids"], inputs["attention_mask"], strict=True)
    return [lookup[ids[mask.astype(bool)].astype(np.int64).tobytes()] for ids, mask in rows]


def _sample_texts(workload: ModuleType, count: int, seed: int = SEED) -> list[str]:
    """``count`` real evaluation sentences, drawn with a fixed seed (lengths as they come)."""
    texts = workload.eval_texts()
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.choice(len(texts), count, replace=count > len(texts))]


# =============================================================================== inputs (C11)

PADDING = {
    "max-length": "padded to the point's sequence length (the model's fixed input shape)",
    "longest": "padded to the longest sentence in the batch (dynamic padding), cut at the point's length",
}
SHARE_BATCHES = (1, 16)  # where the tokenizer's share of a request is measured
SHARE_MAX_LENGTH = 128


# --8<-- [start:padding]
def make_pipeline(model: Any, tokenizer: Any, padding: str) -> Callable[[list[str], int], np.ndarray]:
    """Text in, embeddings out: tokenise with one padding policy, then run the encoder."""
    import torch

    def pipeline(texts: list[str], max_length: int) -> np.ndarray:
        batch = tokenizer(
            texts,
            padding="max_length" if padding == "max-length" else "longest",
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )
        with torch.inference_mode():
            return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).numpy()

    return pipeline


# --8<-- [end:padding]


def tokenizer_share(
    pipeline: Callable[[list[str], int], Any], tokenize: Callable[[list[str], int], Any], texts: list[str]
) -> dict[str, float]:
    """Median time of the tokenizer call alone and of the whole request (tokenizer + encoder)."""
    from benchmarks.harness import LatencyStats, MeasureSettings, measure_round, warm_up

    settings = MeasureSettings(warmup_iters=2, warmup_s=0.0, min_iters=5, min_s=0.0, rounds=1)
    out = {}
    for name, fn in (("tokenize_ms", tokenize), ("end_to_end_ms", pipeline)):
        call = lambda fn=fn: fn(texts, SHARE_MAX_LENGTH)  # noqa: E731
        warm_up(call, settings)
        out[name] = LatencyStats.from_values(measure_round(call, settings)).p50
    return {**out, "tokenize_share": out["tokenize_ms"] / out["end_to_end_ms"]}


def build_padding(workload: ModuleType, options: dict, threads: int, workdir: Path):
    import torch

    from benchmarks.engines import Variant
    from benchmarks.model_stats import model_size

    torch.set_num_threads(threads)
    padding = options["padding"]
    start = time.perf_counter()
    model, tokenizer = workload.torch_model().eval(), workload.tokenizer()
    load_s = time.perf_counter() - start
    pipeline = make_pipeline(model, tokenizer, padding)
    lookup = _texts_by_tokens(workload)

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        batch, seq_len = inputs["input_ids"].shape
        texts = _sample_texts(workload, batch)
        return lambda: pipeline(texts, seq_len)

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        # The fixed policy pads to the shortest timed length that holds the batch's longest
        # sentence, as a deployment with fixed input shapes of 128 and 256 tokens would.
        longest = int(inputs["attention_mask"].sum(axis=1).max())
        length = SHARE_MAX_LENGTH if longest <= SHARE_MAX_LENGTH else workload.EVAL_MAX_LENGTH
        return pipeline(_texts_of(inputs, lookup), length)

    def tokenize(texts: list[str], max_length: int) -> Any:
        kind = "max_length" if padding == "max-length" else "longest"
        return tokenizer(texts, padding=kind, truncation=True, max_length=max_length, return_tensors="pt")

    shares, pad_fraction = {}, {}
    for batch in SHARE_BATCHES:
        texts = _sample_texts(workload, batch)
        shares[str(batch)] = tokenizer_share(pipeline, tokenize, texts)
        mask = tokenize(texts, SHARE_MAX_LENGTH)["attention_mask"]
        pad_fraction[str(batch)] = float(1.0 - mask.float().mean())
    record = {
        "engine": "pytorch",
        "mode": "eager",
        "precision": "fp32",
        "torch_threads": torch.get_num_threads(),
        "padding": PADDING[padding],
        "timed": "tokenizer + encoder, from text to embeddings",
        "share_max_length": SHARE_MAX_LENGTH,
        "tokenizer_share_by_batch": shares,
        "padding_fraction_by_batch": pad_fraction,
        **model_size(model),
    }
    return Variant(bind, predict, record, {"load_s": load_s})


PADDING_VARIANTS = (
    VariantSpec(
        "pad-max-length",
        "Pad to the fixed length",
        "填充到固定长度",
        "benchmarks.techniques.methods:build_padding",
        {"padding": "max-length"},
    ),
    VariantSpec(
        "pad-longest",
        "Dynamic padding (to the longest in the batch)",
        "动态填充(填到批内最长)",
        "benchmarks.techniques.methods:build_padding",
        {"padding": "longest"},
    ),
)


# =============================================================================== caching (C12)

# Two streams a reader meets: a steep one (a few queries dominate, as in autocomplete or FAQ
# search) and a mild one (many queries recur only now and then). Each is its own
# experiment, so its no-cache baseline serves the same sentences as its caches.
ZIPF_S = 1.1
ZIPF_S_MILD = 0.7
# Every capacity stays below the 256 distinct sentences: a cache that holds every distinct
# input would make the claim true by construction.
CACHE_SIZES = (0, 16, 64)
STREAM_LENGTH = 20_000
HIT_RATE_FROM = 1_000  # steady state: hit rate over requests after the first thousand


# --8<-- [start:lru]
class LRUCache:
    """A least-recently-used result cache with hit and miss counters."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key in self.entries:
            self.hits += 1
            self.entries.move_to_end(key)
            return self.entries[key]
        self.misses += 1
        value = compute()
        if self.capacity > 0:
            self.entries[key] = value
            if len(self.entries) > self.capacity:
                self.entries.popitem(last=False)  # evict the least recently used
        return value

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def nbytes(self) -> int:
        """Bytes held by keys and values (array buffers and Python objects), not the dict's own table."""
        return sum(
            sys.getsizeof(k) + sys.getsizeof(v) + getattr(v, "nbytes", 0) for k, v in self.entries.items()
        )


# --8<-- [end:lru]


def zipf_stream(n_items: int, length: int, s: float = ZIPF_S, seed: int = SEED) -> np.ndarray:
    """Request ``length`` items of ``n_items``: the k-th most popular with probability ~ 1/k^s.

    Which item is the most popular is itself a seeded shuffle, so popularity does not follow file order.
    """
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_items + 1) ** s
    popularity = rng.permutation(n_items)
    return popularity[rng.choice(n_items, size=length, p=weights / weights.sum())]


def simulate_hit_rate(stream: Iterable[Hashable], capacity: int, skip: int = 0) -> float:
    """The exact hit rate of an LRU cache of ``capacity`` on ``stream``, counting requests after ``skip``."""
    cache = LRUCache(capacity)
    hits = total = 0
    for i, key in enumerate(stream):
        before = cache.hits
        cache.get_or_compute(key, lambda: None)
        if i >= skip:
            hits += cache.hits - before
            total += 1
    return hits / total if total else 0.0


def warm_cache_keys(requests: Iterable[int], capacity: int, texts: list[str]) -> list[str]:
    """What an LRU cache holds after ``requests``, least recently used first."""
    cache = LRUCache(capacity)
    for i in requests:
        cache.get_or_compute(int(i), lambda: None)
    return [texts[i] for i in cache.entries if isinstance(i, int)]


def build_cache(workload: ModuleType, options: dict, threads: int, workdir: Path):
    import torch

    from benchmarks.engines import Variant
    from benchmarks.model_stats import model_size

    torch.set_num_threads(threads)
    capacity = int(options["capacity"])
    skew = float(options["zipf_s"])
    start = time.perf_counter()
    model, tokenizer = workload.torch_model().eval(), workload.tokenizer()
    load_s = time.perf_counter() - start
    texts = workload.eval_texts()
    if capacity >= len(texts):
        raise ValueError(
            f"a cache of {capacity} holds all {len(texts)} distinct sentences: nothing to measure"
        )
    stream = zipf_stream(len(texts), STREAM_LENGTH, skew)
    lookup = _texts_by_tokens(workload)

    # --8<-- [start:cached-encoder]
    def encode_one(text: str, max_length: int) -> np.ndarray:
        batch = tokenizer([text], truncation=True, max_length=max_length, return_tensors="pt")
        with torch.inference_mode():
            return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])[0].numpy()

    def serve(cache: LRUCache, text: str, max_length: int) -> np.ndarray:
        """One request: the cached embedding if this text was seen recently, else the encoder's."""
        return cache.get_or_compute(text, lambda: encode_one(text, max_length))

    # --8<-- [end:cached-encoder]

    def encode_batch(batch_texts: list[str], max_length: int) -> np.ndarray:
        batch = tokenizer(
            batch_texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        with torch.inference_mode():
            return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).numpy()

    live = LRUCache(capacity)
    position = [HIT_RATE_FROM]  # timed requests continue the stream after the warm-up requests

    def bind(inputs: dict[str, np.ndarray]) -> Callable[[], Any]:
        requests, max_length = inputs["input_ids"].shape
        if capacity and not live.entries:
            # Start timing in the steady state: the cache holds what it would after the first
            # HIT_RATE_FROM requests (replayed by key, then only the survivors are encoded).
            # Encoded in batches, which is faster; the embeddings agree to rounding.
            keys = warm_cache_keys(stream[:HIT_RATE_FROM], capacity, texts)
            for i in range(0, len(keys), 32):
                chunk = keys[i : i + 32]
                for text, vector in zip(chunk, encode_batch(chunk, max_length), strict=True):
                    live.get_or_compute(text, lambda vector=vector: vector)  # type: ignore[misc]

        def call() -> list[np.ndarray]:
            start = position[0]
            position[0] = (start + requests) % len(stream)
            idx = np.take(stream, range(start, start + requests), mode="wrap")
            return [serve(live, texts[i], max_length) for i in idx]

        return call

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Each sentence twice through a fresh cache: the second answer is the cached one, if it was
        kept. Without a cache, each sentence is encoded alone, as served; with one, the first
        pass (all misses) encodes the evaluation batch at once."""
        texts = _texts_of(inputs, lookup)
        if not capacity:
            return np.stack([serve(LRUCache(0), text, workload.EVAL_MAX_LENGTH) for text in texts])
        check = LRUCache(capacity)
        out = []
        for text, vector in zip(texts, encode_batch(texts, workload.EVAL_MAX_LENGTH), strict=True):
            check.get_or_compute(text, lambda vector=vector: vector)  # type: ignore[misc]
            out.append(serve(check, text, workload.EVAL_MAX_LENGTH))
        return np.stack(out)

    # Memory of a full cache: distinct sentence keys, each holding an embedding like the encoder's.
    full = LRUCache(capacity)
    embedding = encode_one(texts[0], 128)
    for text in texts[:capacity]:
        full.get_or_compute(text, embedding.copy)
    record = {
        "engine": "pytorch",
        "mode": "eager",
        "precision": "fp32",
        "torch_threads": torch.get_num_threads(),
        "timed": "requests from the Zipf stream, one at a time: cache lookup, else tokenizer + encoder",
        "cache_capacity": capacity,
        "stream": f"Zipf s={skew} over {len(texts)} evaluation sentences, seed {SEED}",
        "zipf_s": skew,
        "distinct_sentences": len(texts),
        "hit_rate": simulate_hit_rate(stream, capacity, skip=HIT_RATE_FROM),
        "hit_rate_from_request": HIT_RATE_FROM,
        "cache_mb_when_full": full.nbytes() / 2**20,
        **model_size(model),
    }
    return Variant(bind, predict, record, {"load_s": load_s})


def cache_variants(skew: float) -> tuple[VariantSpec, ...]:
    return tuple(
        VariantSpec(
            "no-cache" if size == 0 else f"lru-{size}",
            "No cache" if size == 0 else f"LRU cache, {size} entries",
            "无缓存" if size == 0 else f"LRU 缓存,{size} 条",
            "benchmarks.techniques.methods:build_cache",
            {"capacity": size, "zipf_s": skew},
        )
        for size in CACHE_SIZES
    )


CACHE_GRIDS = {
    "toy": ({"batch": 4, "seq_len": 128},),
    "default": ({"batch": 16, "seq_len": 128},),
    "full": ({"batch": 16, "seq_len": 128}, {"batch": 64, "seq_len": 128}),
}
CACHE_EXPERIMENTS = {"cache/minilm": ZIPF_S, "cache/minilm-mild": ZIPF_S_MILD}


EXPERIMENTS = [
    Experiment(
        name="inputs/minilm",
        technique="methods",
        workload="minilm",
        variants=PADDING_VARIANTS,
        grids={
            "toy": _grid((1, 4), (32,)),
            "default": _grid((1,), (128, 256)) + _grid((8,), (128,)),
            "full": _grid((1, 8, 32), (128, 256)),
        },
    ),
    *(
        Experiment(
            name=name,
            technique="methods",
            workload="minilm",
            variants=cache_variants(skew),
            grids=CACHE_GRIDS,
        )
        for name, skew in CACHE_EXPERIMENTS.items()
    ),
]
