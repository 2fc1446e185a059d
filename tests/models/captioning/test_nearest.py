"""The nearest-neighbour captioning baseline on hand-made features and captions."""

import pytest
import torch

from visionkit.metrics.caption import corpus_bleu
from visionkit.models.captioning.nearest import NearestNeighbourCaptioner, consensus_caption


def bleu(others, candidate):  # the agreement tools/caption_baseline.py passes
    return sum(corpus_bleu([others], [candidate]).values())


def shortest(others, candidate):  # another agreement: the shortest caption wins
    return -len(candidate)


def test_consensus_is_the_caption_the_others_agree_with():
    cands = ["a dog runs on the grass", "a dog runs on green grass", "a cat sleeps", "the dog runs on the grass"]
    assert consensus_caption(cands, bleu) == "a dog runs on the grass"
    assert consensus_caption(cands, shortest) == "a cat sleeps"  # the agreement passed in decides
    assert consensus_caption(["only one"], bleu) == "only one"


def test_nearest_images_by_cosine_similarity_give_their_captions():
    feats = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    caps = [["a red bus"], ["a green tree"], ["a bus near a tree"]]
    nn = NearestNeighbourCaptioner(feats, caps, bleu, k=1)
    query = torch.tensor([[5.0, 0.1], [0.0, 2.0], [1.0, 1.2]])  # scale does not matter, direction does
    assert nn.neighbours(query).tolist() == [[0], [1], [2]]
    assert nn(query) == ["a red bus", "a green tree", "a bus near a tree"]
    two = NearestNeighbourCaptioner(feats, caps, bleu, k=2)
    assert two.neighbours(torch.tensor([[1.0, 0.2]])).tolist() == [[0, 2]]


def test_one_caption_list_per_row():
    with pytest.raises(ValueError, match="one caption list per feature row"):
        NearestNeighbourCaptioner(torch.zeros(2, 3), [["a"]], bleu)
