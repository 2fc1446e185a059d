"""Run by tests/engine/test_distributed.py under torchrun: train ``toy_cnn`` with a per-rank batch
of ``4 // WORLD_SIZE`` (so the global batch is 4 whatever the number of ranks) and evaluate."""

import json
import sys

import torch

import engine_toys as T
from visionkit.engine.trainer import train

if __name__ == "__main__":
    out_dir = sys.argv[1]
    torch.set_num_threads(1)
    world = int(__import__("os").environ.get("WORLD_SIZE", "1"))
    cfg = T.toy_config(out_dir, name="ddp", epochs=2, eval_every=2)
    cfg.data.batch_size = 4 // world
    torch.manual_seed(0)
    model = T.toy_cnn()  # given directly: building by name would import every registered model
    summary = train(cfg, model=model, train_set=T.ToyImages(32), val_set=T.ToyImages(15, seed=1))
    with open(f"{out_dir}/summary_rank{__import__('os').environ.get('RANK', '0')}.json", "w") as f:
        json.dump(summary["metrics"], f)
