import torch

from visionkit.registry import MODELS


def test_lenet_classifier_learns_a_toy_task_and_gives_features():
    torch.manual_seed(0)
    model = MODELS.build("classifier", num_classes=2, network="lenet5", in_channels=1)
    x = torch.rand(16, 1, 32, 32) * 0.2
    y = torch.arange(16) % 2
    x[y == 1, :, 8:24, 8:24] += 0.8  # class 1 has a bright square
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    targets = [{"label": int(k)} for k in y]
    for _ in range(60):
        loss = model(x, targets)["loss_cls"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred = torch.stack([o["logits"] for o in model(x)]).argmax(1)
    assert (pred == y).all()
    assert model.features(x).shape == (16, 84)  # LeNet-5's penultimate layer (F6)
    feats, logits = model.features_and_logits(x)  # one pass: the same features, the forward's logits
    torch.testing.assert_close(feats, model.features(x))
    torch.testing.assert_close(logits, torch.stack([o["logits"] for o in model(x)]))


def test_grey_images_feed_a_colour_network():
    model = MODELS.build("classifier", num_classes=3, network="resnet18").eval()
    with torch.no_grad():
        out = model(torch.rand(2, 1, 32, 32))
    assert out[0]["logits"].shape == (3,)
