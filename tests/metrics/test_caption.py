"""BLEU and CIDEr-D against hand-worked answers and NLTK's corpus_bleu."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.tools import load_tool
from visionkit.metrics.caption import caption_metrics, cider_d, corpus_bleu, tokenize


def test_tokenize_ptb_style():
    assert tokenize("A man's dog, running!") == ["a", "man", "'s", "dog", "running"]
    assert tokenize("I don't know.") == ["i", "do", "n't", "know"]
    assert tokenize("A T-shirt -- (nice) at 2.5 o'clock...") == ["a", "t-shirt", "nice", "at", "2.5", "o'clock"]


def test_bleu_hand_worked():
    # Papineni's example: 7 x "the" against "the cat is on the mat": clipped unigram precision 2/7.
    out = corpus_bleu([["the cat is on the mat"]], ["the the the the the the the"], n=1)
    assert out["bleu1"] == pytest.approx(2 / 7)
    # a perfect match
    assert corpus_bleu([["a cat sits on a mat"]], ["A cat sits on a mat."])["bleu4"] == pytest.approx(1.0)
    # "a cat sits" vs "a cat sits on the mat": p1 = p2 = p3 = 1, no 4-gram in the hypothesis
    out = corpus_bleu([["a cat sits on the mat"]], ["a cat sits"])
    bp = math.exp(1 - 6 / 3)
    assert out["bleu1"] == pytest.approx(bp)
    assert out["bleu3"] == pytest.approx(bp)
    assert out["bleu4"] == 0.0


def test_brevity_penalty_uses_closest_reference_length_corpus_wide():
    # hyp of 4 tokens; refs of 3 and 8 tokens: closest is 3 -> no penalty for this one ...
    refs = [["a b c", "a b c d e f g h"], ["x y z w v u"]]
    hyps = ["a b c d", "x y z"]
    # ... second: 3 tokens vs 6. Corpus c = 7, r = 3 + 6 = 9 -> BP = exp(1 - 9/7).
    out = corpus_bleu(refs, hyps, n=1)
    assert out["bleu1"] == pytest.approx(math.exp(1 - 9 / 7) * 7 / 7)
    # tie between 2 and 4 around a 3-token hypothesis: the shorter (2) is used -> no penalty
    assert corpus_bleu([["a b", "x y z w"]], ["a b c"], n=1)["bleu1"] == pytest.approx(2 / 3)


def test_bleu_matches_nltk_corpus_bleu():
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    rng = np.random.default_rng(0)
    vocab = "a the man dog on street sits".split()  # small vocabulary: 4-gram matches happen
    refs, hyps = [], []
    for _ in range(40):
        refs.append([" ".join(rng.choice(vocab, rng.integers(5, 12))) for _ in range(rng.integers(1, 5))])
        # >= 4 tokens: for a hypothesis shorter than k NLTK counts 1 k-gram in the denominator
        # (max(1, .)) where coco-caption counts 0 -- the one place the two differ.
        hyps.append(" ".join(rng.choice(vocab, rng.integers(4, 12))))
    ours = corpus_bleu(refs, hyps)
    ref_tok = [[tokenize(r) for r in rs] for rs in refs]
    hyp_tok = [tokenize(h) for h in hyps]
    for k in range(1, 5):
        theirs = nltk_bleu.corpus_bleu(ref_tok, hyp_tok, weights=(1 / k,) * k)
        assert theirs > 0 and ours[f"bleu{k}"] == pytest.approx(theirs, rel=1e-12)


def test_cider_d_hand_worked():
    refs = [["a b c d e"], ["f g h i j"]]
    # identical captions: cosine 1 for every n, no length penalty -> 10
    assert cider_d(refs, ["a b c d e", "f g h i j"]) == pytest.approx(10.0)
    # the second hypothesis shares no n-gram with its reference -> 0 for that image
    mean, per = cider_d(refs, ["a b c d e", "a b c d e"], return_per_image=True)
    assert per == [pytest.approx(10.0), 0.0] and mean == pytest.approx(5.0)
    # a 4-word prefix of a 5-word reference (all idf equal): val_n = sqrt((4-n+1)/(5-n+1)),
    # length penalty exp(-(3-4)^2 / 72) with lengths in bigrams
    _, per = cider_d(refs, ["a b c d", "f g h i j"], return_per_image=True)
    vals = [math.sqrt((4 - n + 1) / (5 - n + 1)) for n in range(1, 5)]
    assert per[0] == pytest.approx(10 * np.mean(vals) * math.exp(-1 / 72))


def test_cider_d_idf_downweights_common_ngrams():
    # "a" is in every reference set (idf 0); only the rare words carry weight
    refs = [["a dog"], ["a cat"], ["a bird"]]
    s_rare = cider_d(refs, ["dog", "cat", "bird"], return_per_image=True)[1]
    s_common = cider_d(refs, ["a", "a", "a"], return_per_image=True)[1]
    assert all(v > 0 for v in s_rare) and all(v == 0 for v in s_common)


def test_caption_metrics_and_errors():
    out = caption_metrics([["a cat"]], ["a cat"])
    assert set(out) == {"bleu1", "bleu2", "bleu3", "bleu4", "cider_d"}
    with pytest.raises(ValueError):
        corpus_bleu([["a"]], ["a", "b"])
    with pytest.raises(ValueError):
        corpus_bleu(["a cat"], ["a cat"])  # references must be lists


def _golden_tool():
    return load_tool("caption_golden")


GOLDEN = json.loads((Path(__file__).parent / "golden" / "caption_scores.json").read_text())


def _assert_equal_to_coco_caption(refs, hyps, golden):
    ours = corpus_bleu(refs, hyps)
    for k in range(4):
        assert ours[f"bleu{k + 1}"] == pytest.approx(golden[f"bleu{k + 1}"], abs=1e-9)  # their 1e-9/1e-15 guards
    assert cider_d(refs, hyps) == pytest.approx(golden["cider_d"], abs=1e-12)


def test_synthetic_corpus_against_coco_caption_golden_values():
    """coco-caption's Bleu(4)/Cider on a seeded corpus, stored by tools/caption_golden.py."""
    _assert_equal_to_coco_caption(*_golden_tool().synthetic_corpus(0), GOLDEN["synthetic_seed0"])


def test_coco_captions_against_coco_caption_golden_values(data_dir):
    """Leave-one-out on the real COCO captions (caption 0 scored against the other 4-5)."""
    refs, hyps = _golden_tool().coco_leave_one_out(data_dir)
    _assert_equal_to_coco_caption(refs, hyps, GOLDEN["coco_captions_test_leave_one_out"])


def test_golden_values_are_what_coco_caption_computes_now():
    """Regenerates the synthetic golden values where pycocoevalcap is installed (it is not a test
    dependency), so the stored file cannot drift from the scorer it quotes."""
    pytest.importorskip("pycocoevalcap.cider.cider")
    tool = _golden_tool()
    assert tool.reference_scores(*tool.synthetic_corpus(0)) == pytest.approx(GOLDEN["synthetic_seed0"], abs=1e-12)
