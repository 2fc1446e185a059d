import numpy as np

from visionkit.data.captions import CocoCaptions

from .fixtures import make_captions


def test_pairs_for_training_images_for_eval(tmp_path):
    caps = make_captions(tmp_path)
    train = CocoCaptions(tmp_path, "train", train=True, min_freq=2)
    assert train.task == "captioning" and train.num_images == 2 and train.num_captions == 6
    assert len(train) == 6  # one item per (image, caption)
    image, t = train.raw(4)
    assert image.shape == (24, 32, 3)
    assert t["caption"] == caps["train"][2][1] and t["captions"] == caps["train"][2]
    assert t["tokens"][0] == 1 and t["tokens"][-1] == 2 and t["tokens"].dtype == np.int64
    assert train.vocab.decode(t["tokens"]) == "a dog <unk>"  # 'running' is seen once < min_freq

    test = CocoCaptions(tmp_path, "test", min_freq=2)
    assert len(test) == 1 and test.num_captions == 2
    assert test.vocab.itos == train.vocab.itos  # built from the training split
    assert "bird" not in test.vocab
