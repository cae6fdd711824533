"""Train the plate reader: a compact CRNN with CTC, exported to ONNX for OpenVINO.

Input is what ``inference.reader.batch_tensor`` makes of a detected line: BGR,
48 pixels tall, scaled to [-1, 1], right-padded with zeros.  Output is (N, T,
38) probabilities over the CTC blank, A-Z, 0-9 and a space, with T a quarter of
the input width; ``plate_reader.dict.txt`` beside the model lists A-Z0-9 so the
runtime (``inference.openvino.alphabet``) finds the alphabet.

Training data: synthetic lines (``render.py``), mixed with the production
detector's line crops of us-plate-crops (``extract_lines.py``).  Scene images
(us-scenes-dev) are never used.  Several models train in lockstep on the same
synthetic batches, each with its own real data: ``fold0`` learns from fold 0
and is scored on fold 1, ``fold1`` the reverse, and ``all`` learns from both
and is the one shipped.  The held-out scores are printed but never used to
pick a checkpoint.

    python training/ocr/train.py --real .train/real.npz --out .train/out --steps 6000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, IterableDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from training.ocr.render import HEIGHT, degrade, sample

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
CLASSES = 1 + len(ALPHABET) + 1  # blank, A-Z0-9, space (the runtime's alphabet convention)
WIDTH = 320
# Which folds of the real lines each model learns from.  ``synthetic`` learns from none: it is
# the base the others can start from (``--init``) and, having seen no real line, leaves the
# fold models' held-out scores honest.
MODELS = {"fold0": (0,), "fold1": (1,), "all": (0, 1), "synthetic": ()}
# Channels of the four convolution stages, the LSTM's width and the convolutions in each of
# the last two stages.  ``standard`` is the shipped reader (trained on a lent GPU); ``small``
# has about a sixth of its multiply-adds and trains about five times faster on a 2-core CPU
# (2.7 against 14.5 s a step of 256 lines, forward and backward).
SIZES = {"standard": ((32, 64, 128, 256), 128, 2), "small": ((16, 32, 64, 96), 64, 1)}


def encode(text: str) -> list[int]:
    return [ALPHABET.index(c) + 1 for c in text]


def jitter_real(strip: np.ndarray, rng: np.random.Generator,
                strength: float = 0.5) -> np.ndarray:
    """Light augmentation of a real strip: crop and stretch jitter, then degradation
    (``render.degrade`` at ``strength``, mild by default)."""
    h, w = strip.shape[:2]
    dx0, dx1 = (int(rng.integers(-2, int(0.04 * w) + 3)) for _ in range(2))
    dy0, dy1 = (int(rng.integers(-2, 5)) for _ in range(2))
    padded = cv2.copyMakeBorder(strip, 2, 2, 2, 2, cv2.BORDER_REPLICATE)
    cut = padded[2 + dy0 : 2 + h - dy1, 2 + dx0 : 2 + w - dx1]
    if cut.shape[0] < 8 or cut.shape[1] < 8:
        cut = strip
    stretch = rng.uniform(0.85, 1.15)
    cut = cv2.resize(cut, (max(8, round(cut.shape[1] * stretch)), cut.shape[0]))
    return degrade(cut, rng, strength=strength)


class Batches(IterableDataset):  # type: ignore[type-arg]
    """Endless batches: synthetic lines shared by every model plus each model's real lines."""

    def __init__(self, real: dict[str, np.ndarray], names: list[str], synthetic: int,
                 real_per_model: int, seed: int) -> None:
        self.real = real
        self.names = names
        self.synthetic = synthetic
        self.real_per_model = real_per_model
        self.seed = seed

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        # One thread each: the workers are the parallelism.
        cv2.setNumThreads(1)
        torch.set_num_threads(1)
        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else 0
        rng = np.random.default_rng([self.seed, worker])
        images, widths, labels = self.real["images"], self.real["widths"], self.real["labels"]
        folds = self.real["folds"]
        pools = {name: np.flatnonzero(np.isin(folds, MODELS[name])) for name in self.names}
        n = 0
        while True:
            out: dict[str, torch.Tensor] = {}
            strips, texts = [], []
            for _ in range(self.synthetic):
                n += 1
                strip, text = sample(int(rng.integers(2**62)))
                strips.append(strip)
                texts.append(text)
            out.update(_pack("syn", strips, texts))
            for name, pool in pools.items():
                picks = rng.choice(pool, size=self.real_per_model) if len(pool) else []
                strips = [jitter_real(images[i, :, : widths[i]], rng) for i in picks]
                out.update(_pack(name, strips, [str(labels[i]) for i in picks]))
            yield out


def _pack(prefix: str, strips: list[np.ndarray], texts: list[str]) -> dict[str, torch.Tensor]:
    """Strips as uint8 (N, 48, WIDTH, 3) plus widths: a quarter of the bytes of float input."""
    images = np.zeros((len(strips), HEIGHT, WIDTH, 3), dtype=np.uint8)
    widths = []
    for i, strip in enumerate(strips):
        w = min(WIDTH, max(8, round(strip.shape[1] * HEIGHT / strip.shape[0])))
        images[i, :, :w] = cv2.resize(strip, (w, HEIGHT), interpolation=cv2.INTER_LINEAR)
        widths.append(w)
    targets = [encode(t) for t in texts]
    return {
        f"{prefix}_x": torch.from_numpy(images),
        f"{prefix}_w": torch.tensor(widths, dtype=torch.long),
        f"{prefix}_y": torch.tensor([c for t in targets for c in t], dtype=torch.long),
        f"{prefix}_len": torch.tensor([len(t) for t in targets], dtype=torch.long),
    }


def normalised(images: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
    """What batch_tensor makes of the strips: (N, 3, 48, WIDTH) in [-1, 1], zero past each width."""
    x = (images.permute(0, 3, 1, 2).float() / 255.0 - 0.5) / 0.5
    columns = torch.arange(WIDTH, device=images.device)[None, None, None, :]
    return x * (columns < widths[:, None, None, None])


def block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class PlateReader(nn.Module):
    """CNN down to one row of features per 4 pixels, a BiLSTM over them, a linear classifier."""

    def __init__(self, size: str = "standard") -> None:
        super().__init__()
        (c1, c2, c3, c4), hidden, depth = SIZES[size]

        def stage(cin: int, cout: int) -> list[nn.Module]:
            return [block(cin, cout), *(block(cout, cout) for _ in range(depth - 1))]

        stages: list[nn.Module] = [
            block(3, c1), nn.MaxPool2d(2, 2),            # 24 x W/2
            block(c1, c2), nn.MaxPool2d(2, 2),           # 12 x W/4
            *stage(c2, c3), nn.MaxPool2d((2, 1)),        # 6 x W/4
            *stage(c3, c4), nn.MaxPool2d((2, 1)),        # 3 x W/4
        ]
        width = 2 * hidden
        self.features = nn.Sequential(
            *stages,
            nn.Conv2d(c4, width, (3, 1), bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Dropout(0.1),
        )
        self.rnn = nn.LSTM(width, hidden, batch_first=True, bidirectional=True)
        self.classify = nn.Linear(width, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, T, CLASSES)."""
        f = self.features(x).squeeze(2).permute(0, 2, 1)
        f, _ = self.rnn(f)
        return self.classify(f)


class Exported(nn.Module):
    """The network as shipped: probabilities, as PP-OCR readers output them."""

    def __init__(self, net: PlateReader) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=-1)


def greedy(logits: torch.Tensor) -> list[str]:
    best = logits.argmax(-1).cpu().numpy()
    out = []
    for row in best:
        text, prev = [], 0
        for k in row:
            if k != prev and 0 < k <= len(ALPHABET):
                text.append(ALPHABET[k - 1])
            prev = k
        out.append("".join(text))
    return out


def held_out(real: dict[str, np.ndarray],
             folds: tuple[int, ...]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The original (not variant) strips of these folds: every third row of the file."""
    idx = [i for i in range(0, len(real["labels"]), 3) if real["folds"][i] in folds]
    texts = [str(real["labels"][i]) for i in idx]
    strips = [real["images"][i, :, : real["widths"][i]] for i in idx]
    return _pack("x", strips, texts), texts


def accuracy(net: nn.Module, batch: dict[str, torch.Tensor], truth: list[str],
             device: torch.device) -> float:
    net.eval()
    with torch.no_grad():
        reads = []
        for i in range(0, len(truth), 256):
            x = normalised(batch["x_x"][i : i + 256].to(device),
                           batch["x_w"][i : i + 256].to(device))
            reads += greedy(net(x))
    net.train()
    return sum(r == t for r, t in zip(reads, truth, strict=True)) / max(1, len(truth))


def export(net: PlateReader, path: Path) -> None:
    net = net.cpu().eval()
    dummy = torch.zeros(1, 3, HEIGHT, 160)
    torch.onnx.export(Exported(net), (dummy,), str(path), input_names=["x"],
                      output_names=["probs"], opset_version=17, dynamo=False,
                      dynamic_axes={"x": {0: "n", 3: "w"}, "probs": {0: "n", 1: "t"}})
    path.with_suffix(".dict.txt").write_text("\n".join(ALPHABET) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, required=True, help="extract_lines.py output")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--minutes", type=float, default=0.0,
                        help="stop after this many minutes even if steps remain (0: no limit)")
    parser.add_argument("--synthetic", type=int, default=192, help="synthetic lines per batch")
    parser.add_argument("--real-per-model", type=int, default=64)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=462)
    parser.add_argument("--models", default="fold0,fold1,all",
                        help="which of " + ",".join(MODELS))
    parser.add_argument("--size", choices=sorted(SIZES), default="standard")
    parser.add_argument("--init", type=Path,
                        help="start every model from this state dict (a `synthetic` model's)")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    real = dict(np.load(args.real))
    names = [m for m in args.models.split(",") if m]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        parser.error(f"--models: unknown {', '.join(unknown)} (known: {', '.join(MODELS)})")
    nets = {m: PlateReader(args.size).to(device) for m in names}
    if args.init is not None:
        state = torch.load(args.init, map_location=device, weights_only=True)
        for net in nets.values():
            net.load_state_dict(state)
    opts = {m: torch.optim.AdamW(nets[m].parameters(), lr=args.lr, weight_decay=1e-4)
            for m in names}
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    # Each model is scored on the real lines it never learns from: a fold model on the
    # other fold, the synthetic model on both (how far synthetic lines alone carry).
    checks = {m: held_out(real, tuple({0, 1} - set(MODELS[m]))) for m in names if m != "all"}
    loader = DataLoader(Batches(real, names, args.synthetic, args.real_per_model, args.seed),
                        batch_size=None, num_workers=args.workers, prefetch_factor=4,
                        persistent_workers=True)
    args.out.mkdir(parents=True, exist_ok=True)
    log = (args.out / "train.log").open("a")
    start = time.time()
    amp = device.type == "cuda"
    for step, batch in enumerate(loader, start=1):
        # Warm-up then cosine decay over whichever ends first, the steps or the minutes,
        # so a run cut short by its time limit still ends at a low learning rate.
        progress = (step - 1) / args.steps
        if args.minutes > 0:
            progress = max(progress, (time.time() - start) / (args.minutes * 60))
        warm = min(1.0, progress / 0.05)
        lr = args.lr * warm * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        for m in names:
            for group in opts[m].param_groups:
                group["lr"] = max(lr, args.lr * 0.01)
            x = normalised(torch.cat([batch["syn_x"], batch[f"{m}_x"]]).to(device),
                           torch.cat([batch["syn_w"], batch[f"{m}_w"]]).to(device))
            y = torch.cat([batch["syn_y"], batch[f"{m}_y"]]).to(device)
            lens = torch.cat([batch["syn_len"], batch[f"{m}_len"]]).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = nets[m](x)
            logp = logits.float().log_softmax(-1).permute(1, 0, 2)  # (T, N, C)
            t = torch.full((x.shape[0],), logp.shape[0], dtype=torch.long, device=device)
            loss = ctc(logp, y, t, lens)
            opts[m].zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(nets[m].parameters(), 5.0)
            opts[m].step()
        elapsed = time.time() - start
        out_of_time = args.minutes > 0 and elapsed > args.minutes * 60
        if step % 250 == 0 or step == args.steps or out_of_time:
            scores = {m: round(accuracy(nets[m], *checks[m], device), 4)
                      for m in names if m in checks}
            line = json.dumps({"step": step, "seconds": round(elapsed, 1),
                               "loss": round(float(loss.detach()), 4),
                               "held_out_exact": scores})
            print(line, flush=True)
            log.write(line + "\n")
            log.flush()
        if step >= args.steps or out_of_time:
            break
    for m in names:
        torch.save(nets[m].state_dict(), args.out / f"{m}.pt")
        export(nets[m], args.out / f"plate_reader_{m}.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
