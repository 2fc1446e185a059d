import pytest

from visionkit.data.vocab import Vocabulary, tokenize


def test_tokenize():
    assert tokenize("A man's dog, running!  Fast.") == ["a", "man's", "dog", "running", "fast"]


def test_build_threshold_order_and_specials():
    v = Vocabulary.build(["a dog", "a cat", "a dog runs", "the cat"], min_freq=2)
    assert v.itos == ["<pad>", "<start>", "<end>", "<unk>", "a", "cat", "dog"]  # by count, then alphabet
    assert (v.pad_id, v.start_id, v.end_id, v.unk_id) == (0, 1, 2, 3)
    assert v.encode("A dog runs.") == [1, 4, 6, 3, 2]
    assert v.decode([1, 4, 6, 3, 2, 0, 0]) == "a dog <unk>"
    assert v.decode([4, 2, 5]) == "a"  # stops at <end>
    assert len(Vocabulary.build(["a b c d"] * 2, max_size=2)) == 6


def test_dict_round_trip_is_plain():
    v = Vocabulary.build(["x y", "y z"], min_freq=1)
    d = v.to_dict()
    assert isinstance(d["itos"], list) and all(isinstance(w, str) for w in d["itos"])
    w = Vocabulary.from_dict(d)
    assert w.itos == v.itos and w.encode("z y q") == v.encode("z y q")
    with pytest.raises(ValueError):
        Vocabulary.from_dict({"itos": ["a", "b"]})
