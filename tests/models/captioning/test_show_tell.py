import torch

import tests.helpers.tiny  # noqa: F401  (registers the "tiny_test" backbone)
from tests.helpers.testers import CaptionerTester
from visionkit.data.vocab import Vocabulary
from visionkit.models.captioning.decode import beam_search, greedy_decode
from visionkit.registry import MODELS

CAPTIONS = ["a red bus on the road", "two dogs play in the grass", "a man rides a horse", "a plate of food on a table"]


def _setup():
    """The vocabulary's words and one caption target per image (the batch contract's dicts)."""
    vocab = Vocabulary.build(CAPTIONS)
    words = [vocab.decode([i], strip=False) for i in range(len(vocab))]
    targets = [{"tokens": torch.tensor(vocab.encode(c)), "captions": [c]} for c in CAPTIONS]
    return words, targets


def test_vocabulary_is_the_model_classes_with_specials_first():
    words, targets = _setup()
    assert words[:4] == ["<pad>", "<start>", "<end>", "<unk>"]
    model = MODELS.build("show_tell", classes=words, backbone="tiny_test", pretrained=False, embed_dim=16, hidden=32)
    assert model.out.out_features == len(words)
    loss = model(torch.rand(4, 3, 64, 64), targets)
    assert set(loss) == {"loss_caption"} and loss["loss_caption"].item() > 0


class TestShowTell(CaptionerTester):
    overfit_steps, lr, loss_factor = 150, 1e-2, 0.01  # measured: 0.0002
    overfit_options = {"train_backbone": True}
    captions = CAPTIONS

    def build(self, words, **options):
        return MODELS.build("show_tell", classes=words, backbone="tiny_test", pretrained=False,
                            embed_dim=32, hidden=64, dropout=0.0, **options)

    def after_overfit(self, model, images):
        with torch.no_grad():  # beam search (the model's decoding) and greedy search agree here
            greedy = [model.decode_one(e[None], beam_size=1) for e in model.encoder(images)]
        assert greedy == CAPTIONS


class _Toy:
    """A fixed 'language model': from <start>(1) prefer word 5 then 6 then <end>(2)."""

    table = {1: [0.0, 0, 0.05, 0, 0, 0.55, 0.4], 5: [0.0, 0, 0.1, 0, 0, 0.0, 0.9], 6: [0.0, 0, 0.9, 0, 0, 0.05, 0.05]}

    def __call__(self, words, state):
        other = [0.0, 0, 1.0, 0, 0, 0, 0]  # any other word: end the sentence
        p = torch.tensor([self.table.get(int(w), other) for w in words]) + 1e-9
        return p.log(), state


def test_greedy_and_beam_on_a_hand_made_model():
    state = (torch.zeros(1, 1, 1), torch.zeros(1, 1, 1))
    assert greedy_decode(_Toy(), state, 1, 2, max_len=5) == [[5, 6]]
    # beam: "5 6 <end>" = .55*.9*.9 = .4455 ; "6 <end>" = .4*.9 = .36 ; so beam agrees here
    assert beam_search(_Toy(), state, 1, 2, beam_size=3, max_len=5) == [5, 6]
    # a beam of one is greedy search
    assert beam_search(_Toy(), state, 1, 2, beam_size=1, max_len=5) == [5, 6]


def test_beam_finds_a_better_sentence_than_greedy():
    class Trap(_Toy):
        # greedy takes 5 (0.5) then must end poorly; 6 (0.45) then <end> (1.0) is better overall
        table = {1: [0.0, 0, 0.05, 0, 0, 0.5, 0.45], 5: [0.0, 0, 0.3, 0, 0, 0.35, 0.35], 6: [0.0, 0, 1.0, 0, 0, 0, 0]}

    state = (torch.zeros(1, 1, 1), torch.zeros(1, 1, 1))
    assert greedy_decode(Trap(), state, 1, 2, max_len=2)[0][0] == 5
    assert beam_search(Trap(), state, 1, 2, beam_size=2, max_len=5) == [6]


def test_a_frozen_cnn_stays_in_eval_mode_and_untrained():
    words, targets = _setup()
    model = MODELS.build("show_tell", classes=words, backbone="tiny_test", pretrained=False, embed_dim=16, hidden=32)
    bn = next(m for m in model.encoder.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before = bn.running_mean.clone()
    model.train()
    assert model.training and model.encoder.training and not model.encoder.backbone.training
    assert not any(m.training for m in model.encoder.backbone.modules())
    model(torch.rand(4, 3, 64, 64), targets)["loss_caption"].backward()
    assert torch.equal(bn.running_mean, before)  # eval-mode BN: statistics untouched
    assert all(p.grad is None for p in model.encoder.backbone.parameters())
    assert model.encoder.bn.training  # the trainable embedding's BN does train
    trainable = MODELS.build("show_tell", classes=words, backbone="tiny_test", pretrained=False, train_backbone=True,
                             embed_dim=16, hidden=32).train()
    assert trainable.encoder.backbone.training
