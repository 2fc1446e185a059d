"""Turning a trained caption model into sentences: greedy decoding and beam search.

Both run the LSTM one word at a time from the image embedding. Greedy takes the most likely
word at each step. Beam search (Show and Tell §4.3.1, beam 20 in the paper; 3 is a good
default on small data) keeps the ``k`` most likely partial sentences, extends each by every
word, and keeps the best ``k`` of the results; a sentence leaves the beam when it emits
``<end>``. Scores are summed log-probabilities, optionally divided by ``length ** alpha``
(``alpha = 0`` is the paper's plain sum).

The step function is the model's: ``step(words: LongTensor[B], state) -> (log_probs[B, V], state)``,
with ``state`` any tuple of tensors whose dim 1 is the batch (an LSTM's ``(h, c)``).
"""

from __future__ import annotations

from typing import Callable

import torch

Step = Callable[[torch.Tensor, tuple], tuple[torch.Tensor, tuple]]


@torch.no_grad()
def greedy_decode(step: Step, state: tuple, start_id: int, end_id: int, max_len: int = 20) -> list[list[int]]:
    """The arg-max word at every step, for a batch; each sentence stops at ``<end>``."""
    B = state[0].shape[1]
    words = torch.full((B,), start_id, dtype=torch.long, device=state[0].device)
    out = [[] for _ in range(B)]
    done = torch.zeros(B, dtype=torch.bool, device=words.device)
    for _ in range(max_len):
        logp, state = step(words, state)
        words = logp.argmax(-1)
        for b in torch.nonzero(~done).flatten().tolist():
            if words[b].item() == end_id:
                done[b] = True
            else:
                out[b].append(words[b].item())
        if done.all():
            break
    return out


@torch.no_grad()
def beam_search(step: Step, state: tuple, start_id: int, end_id: int, beam_size: int = 3, max_len: int = 20, alpha: float = 0.0) -> list[int]:
    """The best sentence for ONE image (``state`` has batch 1) by beam search."""
    device = state[0].device
    beams = [([], 0.0)]  # (words, summed log-prob) of live sentences
    last = torch.tensor([start_id], device=device)
    finished: list[tuple[list[int], float]] = []

    def score(words, logp):
        return logp / (max(len(words), 1) ** alpha) if alpha else logp

    for t in range(max_len):
        logp, state = step(last, state)  # (live beams)×V
        total = torch.tensor([b[1] for b in beams], device=device)[:, None] + logp
        k = min(beam_size, total.numel())
        best = total.flatten().topk(2 * k)  # extra candidates, since some will end
        V = logp.shape[1]
        nxt, keep = [], []
        for value, idx in zip(best.values.tolist(), best.indices.tolist()):
            b, w = divmod(idx, V)
            words = beams[b][0]
            if w == end_id or t == max_len - 1:
                finished.append((words if w == end_id else words + [w], value))
            else:
                nxt.append((words + [w], value))
                keep.append(b)
            if len(nxt) == beam_size:
                break
        finished.sort(key=lambda f: score(*f), reverse=True)
        if not nxt or (len(finished) >= beam_size and score(*finished[0]) >= max(score(*n) for n in nxt)):
            break
        beams = nxt
        idx = torch.tensor(keep, device=device)
        state = tuple(s[:, idx] for s in state)
        last = torch.tensor([n[0][-1] for n in nxt], device=device)
    if not finished:
        finished = beams
    return max(finished, key=lambda f: score(*f))[0]
