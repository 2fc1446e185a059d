import torch

from visionkit.registry import CLASSIFIERS


def test_parameter_count_by_hand():
    m = CLASSIFIERS.build("lenet5")
    by_hand = (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    assert by_hand == 61_706
    assert sum(p.numel() for p in m.parameters()) == by_hand


def test_logits_shape_and_learning_signal():
    torch.manual_seed(0)
    m = CLASSIFIERS.build("lenet5", num_classes=3)
    x, y = torch.randn(8, 1, 32, 32), torch.randint(0, 3, (8,))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    losses = []
    for _ in range(30):
        loss = torch.nn.functional.cross_entropy(m(x), y)
        opt.zero_grad(), loss.backward(), opt.step()
        losses.append(loss.item())
    assert m(x).shape == (8, 3)
    assert losses[-1] < 0.5 * losses[0]
