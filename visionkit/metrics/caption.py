"""Caption metrics as computed by the coco-caption toolkit: corpus BLEU-1..4 and CIDEr-D.

Tokenisation
------------
coco-caption runs the Stanford PTB tokenizer in lower-case mode and then drops punctuation
tokens. :func:`tokenize` is a small regex version of the same: lower case, clitics split off as
PTB does (``don't`` -> ``do n't``, ``man's`` -> ``man 's``), words with inner hyphens,
apostrophes or dots kept whole (``t-shirt``, ``o'clock``, ``2.5``), and every token made only of
punctuation removed.

BLEU (Papineni et al. 2002), corpus level
-----------------------------------------
For each n-gram order k, the *clipped* matches of all hypotheses are summed (each hypothesis
n-gram counts at most as often as it appears in its most generous reference) and divided by
the total number of hypothesis k-grams: p_k. BLEU-k is the geometric mean of p_1..p_k times a
brevity penalty ``BP = exp(1 - r / c)`` when the total hypothesis length ``c`` is below the
total reference length ``r`` (else 1). As in coco-caption's ``Bleu`` scorer (option
``closest``) and in NLTK's ``corpus_bleu``, each hypothesis contributes to ``r`` the length of
its reference closest in length (the shorter one on ties). Where coco-caption adds 1e-15/1e-9
to avoid 0/0, we return exactly 0 when some p_k has no match; otherwise the numbers agree to
~1e-9. NLTK's ``corpus_bleu`` agrees exactly except for hypotheses shorter than k words, for
which NLTK counts one k-gram in the denominator where coco-caption (and we) count none.

CIDEr-D (Vedantam et al. 2015), as in coco-caption's ``CiderScorer``
-------------------------------------------------------------------
Each sentence becomes, for n = 1..4, a TF-IDF vector of its n-grams: raw count times
``log(N_images) - log(max(1, df))``, where ``df`` is the number of images whose *reference*
set contains the n-gram (the idf comes from the evaluated references). For every reference,
the per-n similarity is ``sum_g min(h_g, r_g) * r_g / (|h| |r|)`` (the "-D" clipping of the
hypothesis weights) times a Gaussian length penalty ``exp(-(l_h - l_r)^2 / (2 * 6^2))`` with
lengths counted in bigrams as the reference code does. The image score is the mean over n,
averaged over references, times 10; the corpus score is the mean over images.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import Iterable, Sequence

_CLITIC = re.compile(r"(?<=\w)(n't|'s|'re|'ve|'ll|'d|'m)\b")
_TOKEN = re.compile(r"n't|'(?:s|re|ve|ll|d|m)\b|\w+(?:[-.'/&]\w+)*|[^\w\s]+")


def tokenize(text: str) -> list[str]:
    """coco-caption style tokens: lower case, PTB clitic split, punctuation removed."""
    text = _CLITIC.sub(r" \1", str(text).lower().replace("’", "'"))
    toks = _TOKEN.findall(text)
    return [t for t in toks if any(ch.isalnum() for ch in t)]


def _tokens(x) -> list[str]:
    return tokenize(x) if isinstance(x, str) else [str(t) for t in x]


def _ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    c: Counter = Counter()
    for k in range(1, n + 1):
        for i in range(len(tokens) - k + 1):
            c[tuple(tokens[i : i + k])] += 1
    return c


def _check(references, hypotheses) -> None:
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} reference sets but {len(hypotheses)} hypotheses")
    for i, refs in enumerate(references):
        if isinstance(refs, str) or len(refs) == 0:
            raise ValueError(f"image {i}: references must be a non-empty list of captions")


def corpus_bleu(references: Sequence[Sequence[str]], hypotheses: Sequence[str], n: int = 4) -> dict[str, float]:
    """Corpus BLEU-1..n, coco-caption style (see module docstring).

    Args:
        references: per image, a list of reference captions (strings, or token lists).
        hypotheses: per image, one generated caption (string or token list).
    Returns:
        ``{"bleu1": ..., ..., "bleu{n}": ...}`` in [0, 1].
    """
    _check(references, hypotheses)
    correct = [0] * n
    guess = [0] * n
    hyp_len = ref_len = 0
    for refs, hyp in zip(references, hypotheses):
        h = _tokens(hyp)
        rs = [_tokens(r) for r in refs]
        hyp_len += len(h)
        ref_len += min((abs(len(r) - len(h)), len(r)) for r in rs)[1]  # closest, shorter on ties
        max_ref: Counter = Counter()
        for r in rs:
            max_ref |= _ngram_counts(r, n)  # element-wise max of counts
        for g, c in _ngram_counts(h, n).items():
            correct[len(g) - 1] += min(c, max_ref[g])
        for k in range(1, n + 1):
            guess[k - 1] += max(0, len(h) - k + 1)
    bp = 1.0 if hyp_len >= ref_len else (math.exp(1 - ref_len / hyp_len) if hyp_len else 0.0)
    out, log_sum = {}, 0.0
    for k in range(1, n + 1):
        if correct[k - 1] == 0 or math.isinf(log_sum):
            log_sum = -math.inf
        else:
            log_sum += math.log(correct[k - 1] / guess[k - 1])
        out[f"bleu{k}"] = bp * math.exp(log_sum / k) if not math.isinf(log_sum) else 0.0
    return out


def cider_d(
    references: Sequence[Sequence[str]], hypotheses: Sequence[str], n: int = 4, sigma: float = 6.0, return_per_image: bool = False
):
    """Corpus CIDEr-D (coco-caption's ``CiderD``; see module docstring). Returns the mean score,
    or ``(mean, per_image_list)`` with ``return_per_image=True``."""
    _check(references, hypotheses)
    refs_counts = [[_ngram_counts(_tokens(r), n) for r in refs] for refs in references]
    hyp_counts = [_ngram_counts(_tokens(h), n) for h in hypotheses]
    df: dict = defaultdict(int)
    for rc in refs_counts:
        for g in set(g for c in rc for g in c):
            df[g] += 1
    log_n = math.log(float(len(references))) if references else 0.0

    def vec(counts: Counter):
        v = [dict() for _ in range(n)]
        norm = [0.0] * n
        length = 0
        for g, tf in counts.items():
            k = len(g) - 1
            w = tf * (log_n - math.log(max(1.0, df.get(g, 0))))
            v[k][g] = w
            norm[k] += w * w
            if k == 1:
                length += tf
        return v, [math.sqrt(x) for x in norm], length

    scores = []
    for hc, rcs in zip(hyp_counts, refs_counts):
        vh, nh, lh = vec(hc)
        total = 0.0
        for rc in rcs:
            vr, nr, lr = vec(rc)
            pen = math.exp(-((lh - lr) ** 2) / (2 * sigma**2))
            for k in range(n):
                val = sum(min(w, vr[k].get(g, 0.0)) * vr[k].get(g, 0.0) for g, w in vh[k].items())
                if nh[k] != 0 and nr[k] != 0:
                    val /= nh[k] * nr[k]
                total += val * pen / n
        scores.append(10.0 * total / len(rcs))
    mean = float(sum(scores) / len(scores)) if scores else float("nan")
    return (mean, scores) if return_per_image else mean


def caption_metrics(references: Sequence[Sequence[str]], hypotheses: Iterable[str]) -> dict[str, float]:
    """BLEU-1..4 and CIDEr-D in one dict (``bleu1``..``bleu4``, ``cider_d``)."""
    hyps = list(hypotheses)
    out = corpus_bleu(references, hyps)
    out["cider_d"] = cider_d(references, hyps)
    return out
