"""Both workloads load offline, refuse bad weights, and measure real quality."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.workloads import digits_cnn, minilm


@pytest.fixture
def tampered_model(tmp_path):
    """A copy of the packaged model with one byte of its weights changed."""
    source = minilm.model_dir()
    for item in source.iterdir():
        if item.name != "model.safetensors":
            (tmp_path / item.name).symlink_to(item)
    data = bytearray((source / "model.safetensors").read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / "model.safetensors").write_bytes(bytes(data))
    return tmp_path


def test_packaged_model_passes_the_hash_check():
    minilm.verify_model(minilm.model_dir())


def test_tampered_model_is_refused(tampered_model, monkeypatch):
    with pytest.raises(minilm.ModelIntegrityError, match="refusing to run: sha256"):
        minilm.verify_model(tampered_model)
    monkeypatch.setenv("BENCH_MINILM_DIR", str(tampered_model))
    with pytest.raises(minilm.ModelIntegrityError):
        minilm.torch_model()


def test_missing_model_is_refused(tmp_path):
    with pytest.raises(minilm.ModelIntegrityError, match="missing"):
        minilm.verify_model(tmp_path)


def test_eval_set_and_fidelity_metric():
    texts = minilm.eval_texts()
    assert len(texts) == 256 and len(set(texts)) == 256
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(50, 16)).astype(np.float32)
    same = minilm.quality(reference.copy(), reference)
    assert same["cosine_mean"] == pytest.approx(1.0) and same["nn_top1_agreement"] == 1.0
    noisy = minilm.quality(
        reference + rng.normal(scale=1.0, size=reference.shape).astype(np.float32), reference
    )
    assert noisy["cosine_mean"] < 0.9 and noisy["nn_top1_agreement"] < 1.0


def test_topic_retrieval_scores_known_rankings():
    topics = np.array([0, 0, 1, 1])
    # Each sentence's nearest other is its topic mate: perfect retrieval.
    units = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float64)
    units /= np.linalg.norm(units, axis=1, keepdims=True)
    assert minilm.topic_retrieval(units, topics) == {"p1": 1.0, "map": 1.0}
    # Mates swapped: two sentences find theirs second of three (AP 1/2), two last (AP 1/3).
    swapped = minilm.topic_retrieval(units, np.array([0, 1, 1, 0]))
    assert swapped["p1"] == 0.0 and swapped["map"] == pytest.approx((1 / 2 + 1 / 3) / 2)


def test_topic_of_each_output_row_follows_the_encoding_order():
    order = minilm.eval_order(32)
    assert sorted(order) == list(range(32))
    assert list(minilm.eval_topics(32)) == [i // minilm.TOPIC_SIZE for i in order]
    batches = minilm.eval_batches(32)
    first = batches[0]["input_ids"][0]
    encoded = minilm._encode([minilm.eval_texts()[order[0]]], minilm.EVAL_MAX_LENGTH, pad_to_max=False)
    assert list(first[: encoded["input_ids"].shape[1]]) == list(encoded["input_ids"][0])


def test_minilm_matches_sentence_transformers():
    """Our encoder wrapper computes what sentence-transformers computes."""
    import torch
    from sentence_transformers import SentenceTransformer

    texts = minilm.eval_texts()[:8]
    model = minilm.torch_model()
    batch = minilm._encode(texts, minilm.EVAL_MAX_LENGTH, pad_to_max=False)
    with torch.inference_mode():
        ours = model(**{k: torch.from_numpy(v) for k, v in batch.items()}).numpy()
    reference = SentenceTransformer(str(minilm.model_dir()), device="cpu", local_files_only=True).encode(
        texts
    )
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_digits_cnn_trains_to_real_accuracy_and_caches(cache_dir):
    first = digits_cnn.prepare()
    assert first["test_accuracy"] >= 0.95
    second = digits_cnn.prepare()
    assert second["cached"] is True and second["test_accuracy"] == first["test_accuracy"]
    x_train, x_test, _y_train, y_test = digits_cnn.dataset()
    assert x_train.shape[1:] == (1, 8, 8) and len(x_test) == len(y_test) == 450
    assert set(np.unique(y_test)) == set(range(10))
    outputs = np.concatenate(
        [
            digits_cnn.torch_model()(__import__("torch").from_numpy(b["images"])).detach().numpy()
            for b in digits_cnn.eval_batches()
        ]
    )
    assert digits_cnn.quality(outputs, None)["accuracy"] == pytest.approx(first["test_accuracy"])


def test_changed_training_settings_retrain(cache_dir):
    from dataclasses import replace

    shorter = replace(digits_cnn.SETTINGS, epochs=1)
    assert digits_cnn.weights_path(shorter) != digits_cnn.weights_path(digits_cnn.SETTINGS)


def test_minilm_evaluation_batches_sentences_of_similar_length():
    batches = minilm.eval_batches()
    lengths = np.concatenate([b["attention_mask"].sum(axis=1) for b in batches])
    assert len(lengths) == len(minilm.eval_texts()) and (np.diff(lengths) >= 0).all()
    computed = sum(b["input_ids"].size for b in batches)
    assert computed < 1.5 * lengths.sum()  # arbitrary batches pad to 3.6 times the real tokens
