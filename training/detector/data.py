"""Training tiles for the plate detector, drawn at the network's scale.

A tile is a 256 x 256 piece of what the network sees: a frame letterboxed to
512 x 288, so a plate 60-250 px wide in a 720p frame is 24-100 px wide here.
Each tile is one of:

* a real scene from ../shared/data/eu-scenes or br-scenes (training split), scaled
  so its plate has a random width, with its real plate box;
* a background (a real scene's plate-free surroundings or a procedural road or car
  rear) with 0-3 plates composited in perspective: real US plates cut from
  us-plate-crops, synthetic plates from ``training/ocr/render.py`` (DejaVu fonts)
  and from ``inference.synthetic`` (Hershey fonts);
* distractors in both: text that is not a plate (signs, dealer names, badges, long
  banners), tail lights, grilles, bright rectangles of other shapes.

Then the camera: blur, motion blur, exposure, gamma, colour cast, noise, JPEG.
us-scenes-dev is never read here.  Everything is reproducible from a seed.
"""

from __future__ import annotations

import math
import string
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from inference import synthetic  # noqa: E402
from training.ocr import render  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
TILE = 256
MIN_W, MAX_W = 14.0, 170.0  # plate width range in network pixels
HELD_OUT_EVERY = 8  # every 8th eu/br scene (sorted by name) is kept out of training

Box = tuple[float, float, float, float]  # x, y, w, h


@dataclass
class Scene:
    image: np.ndarray
    boxes: list[Box]
    name: str


def read_labels(folder: Path) -> list[tuple[Path, list[Box]]]:
    """Scenes of a folder in the shared format: NAME.txt holds `file x y w h PLATE` lines."""
    out = []
    for txt in sorted(folder.glob("*.txt")):
        boxes: list[Box] = []
        image = None
        for line in txt.read_text().splitlines():
            parts = line.split()
            if len(parts) < 5:
                continue
            image = folder / parts[0]
            x, y, w, h = (float(v) for v in parts[1:5])
            boxes.append((x, y, w, h))
        if image is not None and image.is_file() and boxes:
            out.append((image, boxes))
    return out


def split(items: list[tuple[Path, list[Box]]]) -> tuple[list[tuple[Path, list[Box]]],
                                                          list[tuple[Path, list[Box]]]]:
    """Training and held-out scenes: every HELD_OUT_EVERY-th by name is held out."""
    train = [it for i, it in enumerate(items) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
    held = [it for i, it in enumerate(items) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    return train, held


def training_scenes() -> list[tuple[Path, list[Box]]]:
    """The eu/br scenes training may use (``split``'s first part), with their boxes."""
    return split(read_labels(DATA / "eu-scenes") + read_labels(DATA / "br-scenes"))[0]


def load_scene(path: Path, boxes: list[Box], max_plate_w: float) -> Scene:
    """A scene downscaled so its widest plate is at most max_plate_w (saves memory)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"unreadable image {path}")
    widest = max(b[2] for b in boxes)
    s = min(1.0, max_plate_w / widest)
    if s < 1.0:
        image = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    return Scene(image, [(x * s, y * s, w * s, h * s) for x, y, w, h in boxes], path.stem)


class Sources:
    """Everything tiles are drawn from, loaded once per process."""

    def __init__(self, data: Path = DATA) -> None:
        scenes = read_labels(data / "eu-scenes") + read_labels(data / "br-scenes")
        train, _ = split(scenes)
        self.scenes = [load_scene(p, b, 2 * MAX_W) for p, b in train]
        self.crops: list[np.ndarray] = []
        for png in sorted((data / "us-plate-crops").glob("*.png")):
            img = cv2.imread(str(png), cv2.IMREAD_COLOR)
            if img is not None:
                if img.shape[1] > 2 * MAX_W:
                    s = 2 * MAX_W / img.shape[1]
                    img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
                self.crops.append(img)
        if not self.scenes or not self.crops:
            raise FileNotFoundError(f"no eu/br scenes or us-plate-crops under {data}")


# ----------------------------------------------------------------------------- helpers


def _colour(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    c = rng.integers(lo, hi, 3)
    return int(c[0]), int(c[1]), int(c[2])


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _plate_width(rng: np.random.Generator) -> float:
    """Mostly 20-100 px (60-250 px in 720p), sometimes smaller or larger."""
    if rng.random() < 0.8:
        return _log_uniform(rng, 20.0, 100.0)
    return _log_uniform(rng, MIN_W, MAX_W)


def _random_string(rng: np.random.Generator, n: int) -> str:
    pool = string.ascii_uppercase + string.digits + string.ascii_lowercase + "   .-"
    return "".join(pool[int(i)] for i in rng.integers(0, len(pool), n)).strip() or "A"


def _iou(a: Box, b: Box) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / max(1e-6, a[2] * a[3] + b[2] * b[3] - inter)


def _overlaps(box: Box, others: list[Box], margin: float = 0.3) -> bool:
    x, y, w, h = box
    grown = (x - margin * w, y - margin * h, w * (1 + 2 * margin), h * (1 + 2 * margin))
    return any(_iou(grown, o) > 0.0 for o in others)


# -------------------------------------------------------------------------- backgrounds


def procedural_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Road, wall, sky or vehicle-like clutter: gradients, shapes, lines, texture."""
    a = np.array(_colour(rng, 20, 230), dtype=np.float32)
    b = np.array(_colour(rng, 20, 230), dtype=np.float32)
    ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = a * (1 - ramp) + b * ramp
    img = np.ascontiguousarray(np.broadcast_to(img, (h, w, 3)).astype(np.uint8))
    for _ in range(int(rng.integers(2, 12))):
        c = _colour(rng, 0, 256)
        kind = rng.random()
        p1 = (int(rng.integers(-w // 4, w)), int(rng.integers(-h // 4, h)))
        if kind < 0.45:
            p2 = (p1[0] + int(rng.integers(10, w)), p1[1] + int(rng.integers(10, h)))
            cv2.rectangle(img, p1, p2, c, -1)
        elif kind < 0.7:
            axes = (int(rng.integers(5, w // 2)), int(rng.integers(5, h // 2)))
            cv2.ellipse(img, p1, axes, float(rng.uniform(0, 180)), 0, 360, c, -1)
        else:
            p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.line(img, p1, p2, c, int(rng.integers(1, 8)))
    # Texture: coarse noise (asphalt, foliage), sometimes stripes (grilles, fences).
    img = img.astype(np.float32)
    # Roads, walls and most cars are far less colourful than random colours.
    grey = img.mean(axis=2, keepdims=True)
    keep = rng.uniform(0.1, 1.0)
    img = grey + (img - grey) * keep
    scale = int(rng.integers(2, 16))
    coarse = rng.normal(0, rng.uniform(2, 25), (h // scale + 1, w // scale + 1, 1))
    img += cv2.resize(coarse.astype(np.float32), (w, h))[..., None]
    if rng.random() < 0.3:
        period = int(rng.integers(3, 12))
        y0, y1 = sorted(rng.integers(0, h, 2))
        x0, x1 = sorted(rng.integers(0, w, 2))
        img[y0:y1:period, x0:x1] *= rng.uniform(0.2, 0.7)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def scene_background(src: Sources, rng: np.random.Generator, h: int, w: int,
                     swap: float = 0.0) -> tuple[np.ndarray, list[tuple[Box, float]]]:
    """A real scene scaled so its plate has a random width, cut to h x w; its plate boxes
    (cut to the tile, each with its area before the cut) come back with it.

    With probability ``swap`` each European or Brazilian plate is covered by a US-shaped
    one (a us-plate-crops image or a rendering, 2:1) as wide as it: a real car around a
    plate of the proportions the runtime meets most."""
    scene = src.scenes[int(rng.integers(len(src.scenes)))]
    target = _plate_width(rng)
    s = target / max(b[2] for b in scene.boxes)
    img = cv2.resize(scene.image, None, fx=s, fy=s,
                     interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    boxes = [(x * s, y * s, bw * s, bh * s) for x, y, bw, bh in scene.boxes]
    if swap > 0:
        boxes = [_swap_plate(src, rng, img, b) if rng.random() < swap else b for b in boxes]
    ih, iw = img.shape[:2]
    canvas = procedural_background(rng, h, w)
    if iw <= w or ih <= h:
        # Smaller than the tile in a dimension: paste it somewhere on clutter.
        cw, ch = min(iw, w), min(ih, h)
        box = boxes[0]
        sx = int(np.clip(box[0] + box[2] / 2 - cw / 2 + rng.uniform(-0.3, 0.3) * cw, 0, iw - cw))
        sy = int(np.clip(box[1] + box[3] / 2 - ch / 2 + rng.uniform(-0.3, 0.3) * ch, 0, ih - ch))
        dx, dy = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        canvas[dy : dy + ch, dx : dx + cw] = img[sy : sy + ch, sx : sx + cw]
        ox, oy = dx - sx, dy - sy
        clip = (dx, dy, cw, ch)
    else:
        if rng.random() < 0.8:
            box = boxes[int(rng.integers(len(boxes)))]
            lo_x, hi_x = box[0] + box[2] - w, box[0]
            lo_y, hi_y = box[1] + box[3] - h, box[1]
            sx = int(np.clip(rng.uniform(lo_x, hi_x), 0, iw - w))
            sy = int(np.clip(rng.uniform(lo_y, hi_y), 0, ih - h))
        else:
            sx, sy = int(rng.integers(0, iw - w + 1)), int(rng.integers(0, ih - h + 1))
        canvas = img[sy : sy + h, sx : sx + w].copy()
        ox, oy = -sx, -sy
        clip = (0, 0, w, h)
    shifted = [(x + ox, y + oy, bw, bh) for x, y, bw, bh in boxes]
    return canvas, [(_clip_box(b, clip), b[2] * b[3]) for b in shifted]


def _swap_plate(src: Sources, rng: np.random.Generator, img: np.ndarray, box: Box) -> Box:
    """Cover the plate in box by a US-shaped plate at least as wide; return the new box."""
    plate = synthetic_plate(src, rng)
    x, y, bw, bh = box
    pw = bw * rng.uniform(1.0, 1.1)
    ph = pw * plate.shape[0] / plate.shape[1]
    x0, y0 = round(x + bw / 2 - pw / 2), round(y + bh / 2 - ph / 2)
    x1, y1 = round(x0 + pw), round(y0 + ph)
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(img.shape[1], x1), min(img.shape[0], y1)
    if cx1 - cx0 < 4 or cy1 - cy0 < 2:
        return box
    small = cv2.resize(plate, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    img[cy0:cy1, cx0:cx1] = small[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    return (float(cx0), float(cy0), float(cx1 - cx0), float(cy1 - cy0))


def _clip_box(box: Box, region: tuple[int, int, int, int]) -> Box:
    """The box cut to the region; w or h <= 0 when it falls outside."""
    x0 = max(box[0], region[0])
    y0 = max(box[1], region[1])
    x1 = min(box[0] + box[2], region[0] + region[2])
    y1 = min(box[1] + box[3], region[1] + region[3])
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else (x0, y0, 0.0, 0.0)


# ------------------------------------------------------------------------------ plates


def synthetic_plate(src: Sources, rng: np.random.Generator) -> np.ndarray:
    """A frontal plate image: a real US crop, or a DejaVu or Hershey rendering."""
    roll = rng.random()
    if roll < 0.4:
        plate = src.crops[int(rng.integers(len(src.crops)))]
        if rng.random() < 0.3:
            # Cropped slightly loose or tight, as annotators and crops vary.
            h, w = plate.shape[:2]
            m = int(rng.integers(0, max(1, h // 12)))
            plate = plate[m : h - m, m : w - m] if m else plate
        return plate
    if roll < 0.8:
        text = render.random_text(rng)
        plate, _ = render.render_plate(text, rng)
    else:
        text = synthetic.random_plate(rng, str(rng.choice(["DLLLDDD", "LLLDDDD", "DDDLLL",
                                                            "LLDDDD", "DLLDDD"])))
        state = str(rng.choice(["CALIFORNIA", "TEXAS", "NEVADA", "OREGON", "ARIZONA", "OHIO"]))
        plate = synthetic.render_plate(text, state, seed=int(rng.integers(1 << 30)))
    # US plates are 12 x 6 inches; the renderings' proportions vary with their text.
    aspect = rng.uniform(1.8, 2.2)
    h = plate.shape[0]
    return cv2.resize(plate, (round(h * aspect), h), interpolation=cv2.INTER_AREA)


def plate_quad(rng: np.random.Generator, cx: float, cy: float, w: float,
               h: float) -> np.ndarray:
    """Corners (tl, tr, br, bl) of a plate seen at an angle: rotation, yaw, pitch, shear."""
    pts = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]],
                   dtype=np.float32)
    yaw = rng.uniform(-0.25, 0.25) if rng.random() < 0.6 else 0.0
    pts[:, 1] *= 1 + yaw * np.sign(pts[:, 0])  # one side nearer: taller
    pts[:, 0] *= 1 - abs(yaw) * 0.6
    pitch = rng.uniform(-0.15, 0.15) if rng.random() < 0.4 else 0.0
    pts[:, 0] *= 1 + pitch * np.sign(pts[:, 1])
    shear = rng.uniform(-0.15, 0.15) if rng.random() < 0.3 else 0.0
    pts[:, 0] += shear * pts[:, 1]
    angle = rng.normal(0, 4) if rng.random() < 0.7 else rng.uniform(-14, 14)
    t = math.radians(angle)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]], dtype=np.float32)
    out: np.ndarray = pts @ rot.T + np.array([cx, cy], dtype=np.float32)
    return out


def warp_onto(canvas: np.ndarray, image: np.ndarray, quad: np.ndarray) -> None:
    """Draw image into the quad of canvas (in place), antialiased at the edges."""
    x0 = max(0, math.floor(quad[:, 0].min()) - 1)
    y0 = max(0, math.floor(quad[:, 1].min()) - 1)
    x1 = min(canvas.shape[1], math.ceil(quad[:, 0].max()) + 2)
    y1 = min(canvas.shape[0], math.ceil(quad[:, 1].max()) + 2)
    if x1 <= x0 or y1 <= y0:
        return
    # Shrink the source first so that warping does not alias (a camera integrates light).
    side = max(quad[:, 0].max() - quad[:, 0].min(), 4.0)
    if image.shape[1] > 1.5 * side:
        s = 1.5 * side / image.shape[1]
        image = cv2.resize(image, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    h, w = image.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, (quad - np.array([x0, y0])).astype(np.float32))
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(image, m, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), m, size, flags=cv2.INTER_LINEAR)
    roi = canvas[y0:y1, x0:x1].astype(np.float32)
    blended = roi * (1 - mask[..., None]) + warped.astype(np.float32) * mask[..., None]
    canvas[y0:y1, x0:x1] = np.clip(blended, 0, 255).astype(np.uint8)


def car_rear(canvas: np.ndarray, rng: np.random.Generator, cx: float, cy: float, w: float,
             h: float) -> None:
    """A vehicle around a plate: body, bumper, recess, lights, sometimes a badge."""
    body = _colour(rng, 10, 240)
    bw, bh = w * rng.uniform(2.5, 7), h * rng.uniform(2.5, 7)
    top = cy - bh * rng.uniform(0.4, 0.8)
    cv2.rectangle(canvas, (int(cx - bw / 2), int(top)), (int(cx + bw / 2), int(top + bh)),
                  body, -1)
    if rng.random() < 0.6:  # bumper band below or above the plate
        band = _colour(rng, 10, 120)
        y = cy + h * rng.uniform(0.6, 1.5) * (1 if rng.random() < 0.7 else -1)
        cv2.rectangle(canvas, (int(cx - bw / 2), int(y)), (int(cx + bw / 2),
                      int(y + h * rng.uniform(0.3, 1.2))), band, -1)
    if rng.random() < 0.5:  # plate recess
        r = _colour(rng, 0, 90)
        m = rng.uniform(0.1, 0.35)
        cv2.rectangle(canvas, (int(cx - w * (0.5 + m)), int(cy - h * (0.5 + m))),
                      (int(cx + w * (0.5 + m)), int(cy + h * (0.5 + m))), r, -1)
    if rng.random() < 0.6:  # tail lights
        light = (int(rng.integers(0, 60)), int(rng.integers(0, 80)), int(rng.integers(150, 256)))
        lw, lh = w * rng.uniform(0.4, 1.2), h * rng.uniform(0.5, 1.5)
        ly = cy - h * rng.uniform(1, 3)
        for side in (-1, 1):
            lx = cx + side * bw * rng.uniform(0.3, 0.45)
            cv2.rectangle(canvas, (int(lx - lw / 2), int(ly)), (int(lx + lw / 2), int(ly + lh)),
                          light, -1)
    if rng.random() < 0.4:  # make or dealer text on the body: not a plate
        scale = h / 40 * rng.uniform(0.4, 1.0)
        text = _random_string(rng, int(rng.integers(3, 12)))
        y = cy + h * rng.uniform(-3, 3)
        x = cx + w * rng.uniform(-2.5, 1)
        cv2.putText(canvas, text, (int(x), int(y)), int(rng.choice([0, 1, 2, 3, 4])),
                    max(0.2, scale), _colour(rng), max(1, int(scale * 2)), cv2.LINE_AA)


def distractors(canvas: np.ndarray, rng: np.random.Generator, keep_out: list[Box]) -> None:
    """Text and shapes that are not plates: signs, banners, words, panels of other shapes."""
    h, w = canvas.shape[:2]
    for _ in range(int(rng.integers(0, 4))):
        kind = rng.random()
        scale = rng.uniform(0.3, 2.0)
        text = _random_string(rng, int(rng.integers(2, 16)))
        font = int(rng.choice([0, 1, 2, 3, 4, 6, 7]))
        thick = max(1, int(scale * rng.uniform(1, 3)))
        (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
        x, y = int(rng.integers(-tw // 2, w)), int(rng.integers(th, h + th))
        box = (float(x), float(y - th), float(tw), float(th))
        if _overlaps(box, keep_out, 0.5):
            continue
        if kind < 0.4:
            # A panel with text: a sign or banner, its shape far from a plate's.
            pad = int(th * rng.uniform(0.3, 1.0))
            lines = int(rng.integers(1, 4))
            panel = (x - pad, y - th - pad, tw + 2 * pad, th * lines + 2 * pad + th // 2 * lines)
            aspect = panel[2] / max(1, panel[3])
            if 1.4 < aspect < 5.0 and lines == 1:
                panel = (panel[0], panel[1], int(panel[3] * rng.uniform(5.5, 9)), panel[3])
            if _overlaps((float(panel[0]), float(panel[1]), float(panel[2]), float(panel[3])),
                         keep_out, 0.3):
                continue
            cv2.rectangle(canvas, (panel[0], panel[1]), (panel[0] + panel[2], panel[1] + panel[3]),
                          _colour(rng), -1)
            for i in range(lines):
                cv2.putText(canvas, _random_string(rng, int(rng.integers(2, 14))),
                            (x, y + i * (th + th // 2)), font, scale, _colour(rng), thick,
                            cv2.LINE_AA)
        else:
            cv2.putText(canvas, text, (x, y), font, scale, _colour(rng), thick, cv2.LINE_AA)


# ------------------------------------------------------------------------------ camera


def camera(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Exposure, colour cast, blur, motion blur, noise, resolution loss, JPEG."""
    out = img.astype(np.float32)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.3))
    if rng.random() < 0.15:
        n = int(rng.integers(3, 7))
        k = np.zeros((n, n), np.float32)
        k[n // 2, :] = 1.0 / n
        if rng.random() < 0.5:
            k = k.T
        out = cv2.filter2D(out, -1, k)
    if rng.random() < 0.2:
        s = rng.uniform(0.5, 0.85)
        h, w = out.shape[:2]
        small = cv2.resize(out, (max(8, int(w * s)), max(8, int(h * s))),
                           interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    out = out * rng.uniform(0.5, 1.4) + rng.uniform(-50, 40)
    out = out * rng.uniform(0.85, 1.15, 3).astype(np.float32)
    if rng.random() < 0.3:
        out = 255 * (np.clip(out, 0, 255) / 255) ** rng.uniform(0.6, 1.7)
    if rng.random() < 0.1:
        out = np.repeat(out.mean(axis=2, keepdims=True), 3, axis=2)
    out = out + rng.normal(0, rng.uniform(0, 8), out.shape).astype(np.float32)
    res = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, buf = cv2.imencode(".jpg", res, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 92))])
        if ok:
            res = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return res


# ------------------------------------------------------------------------------- tiles


def tile(src: Sources, seed: int, size: int = TILE,
         swap: float = 0.0) -> tuple[np.ndarray, list[Box], list[Box]]:
    """One training tile (BGR uint8), its plate boxes, and boxes to ignore (cut plates);
    ``swap`` is the chance that a real scene's plate is replaced by a US-shaped one."""
    rng = np.random.default_rng(seed)
    boxes: list[Box] = []
    ignore: list[Box] = []
    roll = rng.random()
    if roll < 0.45:
        canvas, found = scene_background(src, rng, size, size, swap)
        for b, full in found:
            if b[2] <= 0:
                continue
            # A plate cut by the tile's edge: kept when mostly inside, else not scored.
            (boxes if b[2] * b[3] >= 0.7 * full else ignore).append(b)
        extra = int(rng.integers(0, 2)) if rng.random() < 0.3 else 0
    else:
        canvas = procedural_background(rng, size, size)
        extra = int(rng.choice([0, 1, 1, 1, 2, 2, 3]))
    distractors(canvas, rng, boxes + ignore)
    for _ in range(extra):
        w = _plate_width(rng)
        plate = synthetic_plate(src, rng)
        h = w * plate.shape[0] / plate.shape[1]
        cx = rng.uniform(w * 0.3, size - w * 0.3)
        cy = rng.uniform(h * 0.3, size - h * 0.3)
        quad = plate_quad(rng, cx, cy, w, h)
        x0, y0 = quad.min(axis=0)
        x1, y1 = quad.max(axis=0)
        box = (float(x0), float(y0), float(x1 - x0), float(y1 - y0))
        if _overlaps(box, boxes + ignore, 0.6):
            continue
        if rng.random() < 0.6:
            car_rear(canvas, rng, cx, cy, w, h)
        if rng.random() < 0.3:  # a dealer frame around the plate
            fq = (quad - quad.mean(axis=0)) * rng.uniform(1.08, 1.25) + quad.mean(axis=0)
            cv2.fillConvexPoly(canvas, fq.astype(np.int32), _colour(rng, 0, 120))
        warp_onto(canvas, plate, quad)
        clipped = _clip_box(box, (0, 0, size, size))
        (boxes if clipped[2] * clipped[3] >= 0.7 * box[2] * box[3] else ignore).append(clipped)
    return camera(canvas, rng), boxes, ignore

