"""Train the plate detector (``model.PlateNet``) and export it to ONNX for OpenVINO.

Tiles (``data.tile``) are drawn by a worker process while the network trains on
the main one; the run ends after ``--steps`` steps or ``--minutes`` minutes,
whichever comes first, and the learning-rate schedule follows that end.  Every
``--eval-every`` steps the held-out eu/br scenes (every 8th by name, never
trained on) are scored whole-frame through the same letterbox and decoding the
runtime uses (``inference.plate_detector``), and the model is exported, so an
interrupted run still leaves a usable model.  The last model is the one kept:
held-out scores are printed, never used to pick a checkpoint.

    python training/detector/train.py --out .train/detector --minutes 60
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, IterableDataset

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from inference.plate_detector import boxes_from_maps, letterbox  # noqa: E402
from training.detector import data  # noqa: E402
from training.detector.model import STRIDE, PlateNet, export_onnx, normalise  # noqa: E402


class Tiles(IterableDataset):  # type: ignore[type-arg]
    """Endless batches of tiles with their targets; seeds never repeat within a run."""

    def __init__(self, batch: int, seed: int, swap: float) -> None:
        self.batch = batch
        self.seed = seed
        self.swap = swap

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        cv2.setNumThreads(1)
        src = data.Sources()
        n = self.seed * 10_000_000
        while True:
            images, targets = [], []
            for _ in range(self.batch):
                img, boxes, ignore = data.tile(src, n, swap=self.swap)
                n += 1
                images.append(img)
                targets.append(targets_for(boxes, ignore, data.TILE // STRIDE))
            yield {
                "image": torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float(),
                "heat": torch.from_numpy(np.stack([t[0] for t in targets])),
                "heat_w": torch.from_numpy(np.stack([t[1] for t in targets])),
                "reg": torch.from_numpy(np.stack([t[2] for t in targets])),
                "reg_w": torch.from_numpy(np.stack([t[3] for t in targets])),
            }


def targets_for(boxes: list[data.Box], ignore: list[data.Box],
                cells: int) -> tuple[np.ndarray, ...]:
    """CenterNet targets on a cells x cells grid: an elliptical Gaussian per plate (peak 1
    at the centre's cell), the loss weight of each cell (0 over cut plates), and where the
    Gaussian is high, the centre offset and log size in cells (weighted by the Gaussian)."""
    heat = np.zeros((1, cells, cells), np.float32)
    heat_w = np.ones((1, cells, cells), np.float32)
    reg = np.zeros((4, cells, cells), np.float32)
    reg_w = np.zeros((1, cells, cells), np.float32)
    ys, xs = np.mgrid[0:cells, 0:cells].astype(np.float32)
    for x, y, w, h in ignore:
        x0, y0 = int(x / STRIDE), int(y / STRIDE)
        x1, y1 = math.ceil((x + w) / STRIDE), math.ceil((y + h) / STRIDE)
        heat_w[0, max(0, y0) : y1 + 1, max(0, x0) : x1 + 1] = 0.0
    for x, y, w, h in boxes:
        if w < 2 or h < 1:
            continue
        cx, cy = (x + w / 2) / STRIDE, (y + h / 2) / STRIDE
        ix, iy = int(cx), int(cy)
        if not (0 <= ix < cells and 0 <= iy < cells):
            continue
        wc, hc = w / STRIDE, h / STRIDE
        sx, sy = max(0.4, 0.54 * wc / 6), max(0.4, 0.54 * hc / 6)
        g = np.exp(-((xs - ix) ** 2) / (2 * sx * sx) - ((ys - iy) ** 2) / (2 * sy * sy))
        heat[0] = np.maximum(heat[0], g)
        heat[0, iy, ix] = 1.0
        near = g > 0.3
        better = near & (g > reg_w[0])
        reg[0][better] = cx - xs[better]
        reg[1][better] = cy - ys[better]
        reg[2][better] = math.log(wc)
        reg[3][better] = math.log(hc)
        reg_w[0][better] = g[better]
    return heat, heat_w, reg, reg_w


def loss_fn(out: torch.Tensor, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """Penalty-reduced focal loss on the heatmap (CenterNet) + weighted L1 on the boxes."""
    pred = torch.sigmoid(out[:, :1]).clamp(1e-4, 1 - 1e-4)
    gt, w = batch["heat"], batch["heat_w"]
    pos = (gt >= 1.0).float()
    pos_loss = -torch.log(pred) * (1 - pred) ** 2 * pos
    neg_loss = -torch.log(1 - pred) * pred**2 * (1 - gt) ** 4 * (1 - pos) * w
    npos = pos.sum().clamp(min=1.0)
    focal = (pos_loss.sum() + neg_loss.sum()) / npos
    rw = batch["reg_w"]
    reg = (F.smooth_l1_loss(out[:, 1:], batch["reg"], reduction="none", beta=0.1) * rw).sum()
    reg = reg / (rw.sum() * 4).clamp(min=1.0)
    return focal + 2.0 * reg, focal, reg


def held_out_recall(net: PlateNet, scenes: list[tuple[Path, list[data.Box]]]) -> dict[str, float]:
    """Whole-frame recall on held-out scenes, through the runtime's letterbox and decoder."""
    net.eval()
    hits5 = hits3 = total = 0
    with torch.no_grad():
        for path, boxes in scenes:
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is None:
                continue
            tensor, meta = letterbox(frame)
            raw = net(normalise(torch.from_numpy(tensor)))
            heat = torch.sigmoid(raw[:, :1])
            peaks = (heat == F.max_pool2d(heat, 3, 1, 1)).float()
            maps = torch.cat([heat * peaks, raw[:, 1:]], 1)[0].numpy()
            found = boxes_from_maps(maps, meta, threshold=0.3)
            for box in boxes:
                total += 1
                best = max((data._iou(box, (f.x, f.y, f.w, f.h)) for f in found), default=0.0)
                hits5 += best >= 0.5
                hits3 += best >= 0.3
    net.train()
    return {"recall50": hits5 / max(1, total), "recall30": hits3 / max(1, total),
            "scenes": float(total)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / ".train" / "detector")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--minutes", type=float, default=60.0, help="0: no time limit")
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--resume", type=Path, default=None, help="a state_dict to start from")
    ap.add_argument("--swap", type=float, default=0.0,
                    help="chance that a real eu/br plate is covered by a US-shaped one")
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    net = PlateNet()
    if args.resume is not None:
        net.load_state_dict(torch.load(args.resume, map_location="cpu"))
    params = sum(p.numel() for p in net.parameters())
    print(json.dumps({"params": params, "args": {k: str(v) for k, v in vars(args).items()}}),
          flush=True)
    _, held = data.split(data.read_labels(data.DATA / "eu-scenes")
                         + data.read_labels(data.DATA / "br-scenes"))
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    loader = DataLoader(Tiles(args.batch, args.seed, args.swap), batch_size=None,
                        num_workers=args.workers, prefetch_factor=4 if args.workers else None)
    start = time.monotonic()
    limit = args.minutes * 60 if args.minutes > 0 else math.inf
    warmup = 200
    running = [0.0, 0.0, 0.0]
    step = 0
    for batch in loader:
        elapsed = time.monotonic() - start
        progress = max(step / args.steps, elapsed / limit)
        if progress >= 1.0:
            break
        lr = args.lr * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * progress))
        for group in opt.param_groups:
            group["lr"] = lr
        out = net(normalise(batch["image"]))
        loss, focal, reg = loss_fn(out, batch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        step += 1
        for i, v in enumerate((loss, focal, reg)):
            value = float(v.detach())
            running[i] = 0.98 * running[i] + 0.02 * value if step > 1 else value
        if step % 50 == 0:
            print(json.dumps({"step": step, "min": round(elapsed / 60, 1), "lr": round(lr, 5),
                              "loss": round(running[0], 4), "focal": round(running[1], 4),
                              "reg": round(running[2], 4)}), flush=True)
        if step % args.eval_every == 0:
            save(net, args.out)
            print(json.dumps({"step": step, "held_out": held_out_recall(net, held)}), flush=True)
    save(net, args.out)
    print(json.dumps({"step": step, "minutes": round((time.monotonic() - start) / 60, 1),
                      "held_out": held_out_recall(net, held)}), flush=True)
    return 0


def save(net: PlateNet, out: Path) -> None:
    torch.save(net.state_dict(), out / "plate_detector.pt")
    export_onnx(net, str(out / "plate_detector.onnx"))
    net.train()


if __name__ == "__main__":
    raise SystemExit(main())
