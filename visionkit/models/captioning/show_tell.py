"""Show and Tell — "A Neural Image Caption Generator" (Vinyals, Toshev, Bengio & Erhan, 2015).

A CNN encodes the image into one vector; an LSTM language model is conditioned on it and
generates the sentence word by word (§3.1, figure 3):

    x₋₁ = W_I · CNN(I)            the image is shown once, at t = −1
    x_t = W_e · S_t,  t ≥ 0       S₀ = <start>; then the previous word
    p_{t+1} = softmax(W_o · LSTM(x_t))

Training maximises the log-likelihood of the reference words given the image, with the
*true* previous word as input (teacher forcing). At test time the previous *predicted* word
is fed back: greedy or beam search (``decode.py``). The vocabulary is the model's list of
"classes" (``classes[i]`` is word id ``i``; ids 0–3 are ``<pad> <start> <end> <unk>``), so it
is stored in every checkpoint.

The CNN is a zoo backbone (ImageNet MobileNetV2 by default), frozen unless
``train_backbone``: with a few hundred training images, fine-tuning it only over-fits. A
frozen CNN stays in eval mode (its batch-norm statistics fixed) whatever ``train()`` sets, and
is a pure function of the pixels: the trainer may give the encoder a feature cache
(:mod:`visionkit.engine.feature_cache`) so that it runs once per distinct image.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ...registry import MODELS
from ..common import Images, Normalize, Targets, batch_images, build_backbone, pad_tokens
from .decode import beam_search, greedy_decode

PAD_ID, START_ID, END_ID, UNK_ID = 0, 1, 2, 3


class ImageEncoder(nn.Module):
    """CNN -> global average pool -> linear image embedding ``W_I`` (with BN, as is common)."""

    def __init__(self, backbone: nn.Module, embed_dim: int, train_backbone: bool = False):
        super().__init__()
        self.normalize = Normalize()
        self.backbone = backbone
        self.train_backbone = train_backbone
        if not train_backbone:
            backbone.requires_grad_(False)
        self.features = backbone.out_channels[backbone.last]
        self.embed = nn.Linear(self.features, embed_dim)
        self.bn = nn.BatchNorm1d(embed_dim)
        # (fn, images) -> fn(images), memoised per image; set by the engine when the CNN is frozen
        self.feature_cache: Optional[Callable[[Callable, torch.Tensor], torch.Tensor]] = None
        self.train()

    @property
    def frozen(self) -> bool:
        """Whether the CNN is frozen: then its pooled features depend on the pixels only."""
        return not self.train_backbone

    def train(self, mode: bool = True) -> "ImageEncoder":
        """As ``nn.Module.train``, but a frozen CNN always stays in eval mode (fixed BN statistics)."""
        super().train(mode)
        if self.frozen:
            self.backbone.eval()
        return self

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """CNN(I): the globally pooled last feature map (also the nearest-neighbour baseline's
        features), through ``feature_cache`` when one is set and the CNN is frozen."""
        if self.frozen and self.feature_cache is not None:
            return self.feature_cache(self.cnn, x)
        return self.cnn(x)

    def cnn(self, x: torch.Tensor) -> torch.Tensor:
        """The CNN's globally pooled last feature map, computed (``N×features``)."""
        with torch.set_grad_enabled(self.train_backbone and torch.is_grad_enabled()):
            f = self.backbone(self.normalize(x))[self.backbone.last]
        return f.mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.embed(self.pooled(x)))


class ShowTell(nn.Module):
    task = "captioning"

    def __init__(self, encoder: ImageEncoder, vocab: list[str], embed_dim: int = 512, hidden: int = 512,
                 dropout: float = 0.5, beam_size: int = 3, max_len: int = 20, length_alpha: float = 0.0):
        super().__init__()
        self.vocab = list(vocab)
        V = len(self.vocab)
        self.encoder = encoder
        self.word_embed = nn.Embedding(V, embed_dim, padding_idx=PAD_ID)  # W_e
        self.lstm = nn.LSTM(embed_dim, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, V)  # W_o
        self.beam_size, self.max_len, self.length_alpha = beam_size, max_len, length_alpha

    def forward(self, images: Images, targets: Targets | None = None):
        """Training: one dict per image with ``tokens`` (word ids with <start>/<end>) ->
        ``{"loss_caption"}``. Eval: ``[{"captions": [sentence]}]`` per image."""
        x, _ = batch_images(images)
        image_embedding = self.encoder(x)  # x₋₁
        if self.training:
            tokens, _ = pad_tokens(targets, PAD_ID, image_embedding.device)
            return {"loss_caption": self.caption_loss(image_embedding, tokens)}
        return [{"captions": [self.decode_one(e[None])]} for e in image_embedding]

    def caption_loss(self, image_embedding: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: inputs [image, <start>, w1, ..., w_{n−1}] predict [w1, ..., <end>]."""
        words = self.drop(self.word_embed(tokens[:, :-1]))
        seq = torch.cat([image_embedding[:, None], words], 1)
        hidden, _ = self.lstm(seq)
        logits = self.out(self.drop(hidden[:, 1:]))  # the step after the image predicts nothing
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1), ignore_index=PAD_ID)

    def init_state(self, image_embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The LSTM state after seeing the image (t = −1)."""
        _, state = self.lstm(image_embedding[:, None])
        return state

    def step(self, words: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        hidden, state = self.lstm(self.word_embed(words)[:, None], state)
        return self.out(hidden[:, 0]).log_softmax(-1), state

    def decode_one(self, image_embedding: torch.Tensor, beam_size: int | None = None) -> str:
        beam = beam_size or self.beam_size
        state = self.init_state(image_embedding)
        if beam <= 1:
            ids = greedy_decode(self.step, state, START_ID, END_ID, self.max_len)[0]
        else:
            ids = beam_search(self.step, state, START_ID, END_ID, beam, self.max_len, self.length_alpha)
        return " ".join(self.vocab[i] for i in ids if i >= UNK_ID)


@MODELS.register("show_tell", task="captioning")
def show_tell(
    classes: list[str] = (),
    backbone: str = "mobilenet_v2",
    pretrained: bool = True,
    train_backbone: bool = False,
    embed_dim: int = 512,
    hidden: int = 512,
    dropout: float = 0.5,
    beam_size: int = 3,
    max_len: int = 20,
    length_alpha: float = 0.0,
) -> ShowTell:
    """Show and Tell. ``classes`` is the vocabulary (word list, ids 0–3 special), filled in by
    the engine from the training set."""
    if len(classes) < 5:
        raise ValueError("show_tell needs the vocabulary as `classes` (from the captions data set)")
    body = build_backbone(backbone, pretrained)
    return ShowTell(ImageEncoder(body, embed_dim, train_backbone), list(classes), embed_dim, hidden, dropout, beam_size, max_len, length_alpha)
