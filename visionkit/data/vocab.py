"""Caption vocabulary: words <-> integer ids, built from the training captions.

A captioning model (Show and Tell) predicts one word id per step. Its vocabulary is every word
seen at least ``min_freq`` times in the *training* captions; rarer words map to ``<unk>``, so
the output layer stays small and every id has enough examples to learn from. Four special
tokens come first, with fixed ids:

    0 <pad>    fills short captions up to the batch's longest (ignored by the loss)
    1 <start>  fed as the first input word
    2 <end>    the model learns to emit it to stop
    3 <unk>    any word not in the vocabulary

The vocabulary is part of the model: it is stored inside the checkpoint as plain types
(``to_dict``/``from_dict``) and must be the one built on the training split.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Sequence

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIALS = (PAD, START, END, UNK)
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Lower-case words (letters/digits, with an apostrophe suffix kept: ``man's``); punctuation dropped."""
    return _TOKEN.findall(text.lower())


class Vocabulary:
    """Word <-> id table with the four specials at ids 0..3."""

    pad_id, start_id, end_id, unk_id = 0, 1, 2, 3

    def __init__(self, words: Sequence[str] = (), min_freq: int = 1):
        self.min_freq = int(min_freq)
        self.itos: list[str] = list(SPECIALS) + [w for w in words if w not in SPECIALS]
        self.stoi: dict[str, int] = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, captions: Iterable[str], min_freq: int = 1, max_size: int = 0) -> "Vocabulary":
        """Words appearing at least ``min_freq`` times, most frequent first (ties alphabetical);
        ``max_size > 0`` caps the number of words (specials not counted)."""
        counts = Counter(w for c in captions for w in tokenize(c))
        words = sorted((w for w, n in counts.items() if n >= min_freq), key=lambda w: (-counts[w], w))
        if max_size > 0:
            words = words[:max_size]
        return cls(words, min_freq)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: str) -> bool:
        return word in self.stoi

    def encode(self, caption: str, add_specials: bool = True) -> list[int]:
        """``"A dog."`` -> ``[1, id('a'), id('dog'), 2]`` (unknown words -> 3)."""
        ids = [self.stoi.get(w, self.unk_id) for w in tokenize(caption)]
        return [self.start_id, *ids, self.end_id] if add_specials else ids

    def decode(self, ids: Iterable[int], strip: bool = True) -> str:
        """Ids -> text; stops at ``<end>`` and drops ``<start>``/``<pad>`` when ``strip``."""
        words = []
        for i in ids:
            i = int(i)
            if strip and i == self.end_id:
                break
            if strip and i in (self.pad_id, self.start_id):
                continue
            words.append(self.itos[i] if 0 <= i < len(self.itos) else UNK)
        return " ".join(words)

    def to_dict(self) -> dict:
        """Plain types only, to be stored in a checkpoint (loads with weights_only=True)."""
        return {"itos": list(self.itos), "min_freq": self.min_freq}

    @classmethod
    def from_dict(cls, d: dict) -> "Vocabulary":
        itos = list(d["itos"])
        if tuple(itos[:4]) != SPECIALS:
            raise ValueError(f"vocabulary must start with {SPECIALS}, got {itos[:4]}")
        return cls(itos[4:], d.get("min_freq", 1))

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens, min_freq={self.min_freq})"
