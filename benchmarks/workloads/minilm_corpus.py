"""Training corpus for fine-tuning and distilling the MiniLM sentence encoder.

``data/minilm_train.txt`` holds about 1,200 short English sentences on many
topics (science, sport, cooking, travel, software, finance, health, history,
weather, music, questions, instructions...), one per line, written for this
project. It is disjoint from the evaluation set ``data/minilm_eval.txt``: no
line of one appears in the other, so a student trained on this corpus is
never scored on sentences it has seen.
"""

from __future__ import annotations

from pathlib import Path

TRAIN_TEXT = Path(__file__).parent / "data" / "minilm_train.txt"


def train_texts() -> list[str]:
    """The training sentences, stripped, without empty lines."""
    lines = [line.strip() for line in TRAIN_TEXT.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line]
