"""Synthetic plate lines for training the plate reader.

A sample is what the production pipeline hands the reader: a detected line of
registration characters, rectified to a strip 48 pixels tall, with whatever
the detector's box let in around it (the edge of the state name above, a
slogan below, a sticker, an emblem between character groups, the plate's
frame).  Plates are drawn with the DejaVu fonts Debian ships (squeezed and
stretched, as plate typefaces are), in the ink and background colours US
plates use, then degraded the way a roadside camera degrades them.

Every sample is reproducible from its seed; nothing here reads a real image.
"""

from __future__ import annotations

import os
import string
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from inference.plates import STATE_FORMATS

HEIGHT = 48
# Debian's fonts-dejavu-core and fonts-dejavu-extra; SIGHTLINE_FONT_DIR points elsewhere.
FONT_DIR = Path(os.environ.get("SIGHTLINE_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSans.ttf",
    "DejaVuSansCondensed.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerifCondensed-Bold.ttf",
)
LETTERS = string.ascii_uppercase
DIGITS = string.digits
FORMATS = sorted({f for fs in STATE_FORMATS.values() for f in fs})
INKS = ((20, 20, 20), (110, 40, 10), (25, 25, 140), (30, 90, 20), (90, 20, 60), (130, 70, 0))
PAPERS = ((238, 238, 236), (250, 250, 250), (90, 210, 240), (235, 220, 200), (215, 230, 240),
          (200, 225, 200), (220, 220, 245), (180, 200, 220))
WORDS = ("CALIFORNIA", "TEXAS", "FLORIDA", "NEW YORK", "VIRGINIA", "OHIO", "ILLINOIS",
         "Sunshine State", "Land of Lincoln", "EMPIRE STATE", "dmv.ca.gov", "Live Free or Die",
         "Great Faces Great Places", "MARYLAND", "WASHINGTON", "Evergreen State", "OREGON")

_fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def font(name: str, size: int, folder: Path = FONT_DIR) -> ImageFont.FreeTypeFont:
    """A cached TrueType font."""
    key = (name, size)
    if key not in _fonts:
        _fonts[key] = ImageFont.truetype(str(folder / name), size)
    return _fonts[key]


def random_text(rng: np.random.Generator) -> str:
    """A registration: a real state format most of the time, else free text or vanity."""
    roll = rng.random()
    if roll < 0.7:
        pattern = str(rng.choice(FORMATS))
    elif roll < 0.88:
        pattern = "".join(rng.choice(["L", "D"], size=int(rng.integers(2, 9))))
    else:
        pattern = "L" * int(rng.integers(3, 8))
    return "".join(
        str(rng.choice(list(LETTERS))) if s == "L" else str(rng.choice(list(DIGITS)))
        for s in pattern
    )


def _groups(text: str, rng: np.random.Generator) -> list[str]:
    """Split the registration where a plate would put a gap, emblem or dash."""
    if len(text) < 4 or rng.random() < 0.35:
        return [text]
    cut = int(rng.integers(2, len(text) - 1))
    # Plates usually break where letters meet digits.
    for i in range(1, len(text)):
        if text[i - 1].isalpha() != text[i].isalpha() and rng.random() < 0.7:
            cut = i
            break
    return [text[:cut], text[cut:]]


def _colour(rng: np.random.Generator, palette: tuple[tuple[int, int, int], ...],
            jitter: int = 25) -> tuple[int, int, int]:
    base = np.array(palette[int(rng.integers(len(palette)))], dtype=np.int32)
    c = np.clip(base + rng.integers(-jitter, jitter + 1, 3), 0, 255)
    return int(c[0]), int(c[1]), int(c[2])


def _background(h: int, w: int, rng: np.random.Generator,
                paper: tuple[int, int, int]) -> np.ndarray:
    """Plate sheeting: a flat colour, a gradient, or a faint scenic graphic."""
    img = np.empty((h, w, 3), dtype=np.float32)
    img[:] = paper
    kind = rng.random()
    if kind < 0.35:
        # Vertical or horizontal gradient (sunsets, skies).
        other = np.array(_colour(rng, PAPERS, 60), dtype=np.float32)
        ramp = np.linspace(0, 1, h if rng.random() < 0.7 else w, dtype=np.float32)
        ramp = ramp[:, None, None] if len(ramp) == h else ramp[None, :, None]
        img = img * (1 - ramp) + other * ramp
    elif kind < 0.6:
        # Blobs of colour: mountains, birds, flowers behind the characters.
        for _ in range(int(rng.integers(1, 5))):
            c = np.array(_colour(rng, PAPERS + INKS, 40), dtype=np.float32)
            centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            axes = (int(rng.integers(w // 10, w // 2)), int(rng.integers(h // 6, h)))
            mask = np.zeros((h, w), dtype=np.uint8)
            cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
            alpha = (mask.astype(np.float32) / 255 * rng.uniform(0.15, 0.5))[..., None]
            img = img * (1 - alpha) + c * alpha
    return img


Box = tuple[int, int, int, int]


def render_plate(text: str, rng: np.random.Generator) -> tuple[np.ndarray, Box]:
    """A frontal plate (BGR) with the registration, and the registration's box x, y, w, h."""
    char_h = int(rng.integers(70, 110))
    name = FONT_FILES[int(rng.integers(len(FONT_FILES)))]
    f = font(name, char_h)
    squeeze = float(rng.uniform(0.55, 1.15))
    groups = _groups(text, rng)
    gap = int(char_h * rng.uniform(0.15, 0.7)) if len(groups) > 1 else 0
    spacing = int(char_h * rng.uniform(-0.02, 0.12))
    stroke = int(rng.integers(0, 3))

    # Draw the characters on their own layer, then squeeze horizontally.
    glyph_w = [max(1, int(f.getlength(c))) + spacing for c in text]
    raw_w = sum(glyph_w) + gap + 20
    layer = Image.new("L", (raw_w, int(char_h * 1.4)), 0)
    draw = ImageDraw.Draw(layer)
    x = 10
    i = 0
    for g_index, g in enumerate(groups):
        if g_index:
            x += gap
        for c in g:
            draw.text((x, 0), c, font=f, fill=255, stroke_width=stroke, stroke_fill=255)
            x += glyph_w[i]
            i += 1
    ink_mask = np.array(layer)
    ys, xs = np.nonzero(ink_mask)
    ink_mask = ink_mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    new_w = max(4, int(ink_mask.shape[1] * squeeze))
    ink_mask = cv2.resize(ink_mask, (new_w, ink_mask.shape[0]), interpolation=cv2.INTER_AREA)
    th, tw = ink_mask.shape

    # The plate around it: margins, state name on top, slogan at the bottom.
    pad_x = int(th * rng.uniform(0.2, 0.9))
    top = int(th * rng.uniform(0.35, 0.7))
    bottom = int(th * rng.uniform(0.25, 0.6))
    ph, pw = th + top + bottom, tw + 2 * pad_x
    paper = _colour(rng, PAPERS)
    dark_plate = rng.random() < 0.1
    if dark_plate:
        paper = _colour(rng, INKS, 20)
    plate = _background(ph, pw, rng, paper)
    ink = np.array(_colour(rng, PAPERS, 10) if dark_plate else _colour(rng, INKS),
                   dtype=np.float32)

    # Emblem or dash between the groups, drawn before the characters.
    if len(groups) > 1 and rng.random() < 0.6:
        split_x = pad_x + int(tw * len(groups[0]) / len(text))
        c = np.array(_colour(rng, INKS + PAPERS, 40), dtype=np.float32)
        mask = np.zeros((ph, pw), dtype=np.uint8)
        cy = top + th // 2
        if rng.random() < 0.5:
            cv2.rectangle(mask, (split_x - gap // 4, cy - th // 16),
                          (split_x + gap // 4, cy + th // 16), 255, -1)
        else:
            r = max(3, int(th * rng.uniform(0.15, 0.35)))
            pts = (rng.normal(0, r * 0.5, (6, 2)) + np.array([split_x, cy])).astype(np.int32)
            cv2.fillPoly(mask, [cv2.convexHull(pts)], 255)
        alpha = (mask.astype(np.float32) / 255)[..., None]
        plate = plate * (1 - alpha) + c * alpha

    alpha = (ink_mask.astype(np.float32) / 255)[..., None]
    region = plate[top : top + th, pad_x : pad_x + tw]
    plate[top : top + th, pad_x : pad_x + tw] = region * (1 - alpha) + ink * alpha

    img = Image.fromarray(np.clip(plate, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    word_ink = tuple(int(v) for v in _colour(rng, INKS))
    for y0, size in ((0, top), (top + th, bottom)):
        if rng.random() < 0.75 and size > 8:
            small = font(FONT_FILES[int(rng.integers(len(FONT_FILES)))],
                         max(6, int(size * rng.uniform(0.5, 0.9))))
            word = str(rng.choice(WORDS))
            wx = int((pw - small.getlength(word)) / 2 + rng.uniform(-0.1, 0.1) * pw)
            draw.text((wx, y0 + int(size * 0.05)), word, font=small, fill=word_ink)
    # A registration sticker in a corner, sometimes overlapping the line's ends.
    if rng.random() < 0.3:
        sw, sh = int(th * rng.uniform(0.3, 0.6)), int(th * rng.uniform(0.25, 0.5))
        inset = int(rng.integers(0, max(1, pad_x)))
        sx = inset if rng.random() < 0.5 else pw - sw - inset
        sy = int(rng.integers(0, max(1, top + th // 3)))
        draw.rectangle((sx, sy, sx + sw, sy + sh), fill=_colour(rng, PAPERS + INKS, 60))
    out = cv2.cvtColor(np.array(img), cv2.COLOR_RGB2BGR)
    return out, (pad_x, top, tw, th)


def line_crop(plate: np.ndarray, box: Box,
              rng: np.random.Generator) -> np.ndarray:
    """What a detector box around the registration would cut out: loose or tight, tilted."""
    x, y, w, h = box
    # The detector's box: a few percent off on each side, sometimes clipping a character edge.
    left = x - h * rng.uniform(-0.05, 0.35)
    right = x + w + h * rng.uniform(-0.05, 0.35)
    top = y - h * rng.uniform(-0.06, 0.3)
    bottom = y + h + h * rng.uniform(-0.06, 0.3)
    src = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], dtype=np.float32)
    src += rng.normal(0, h * 0.03, src.shape).astype(np.float32)
    out_w = max(8, round(HEIGHT * (right - left) / (bottom - top)))
    dst = np.array([[0, 0], [out_w, 0], [out_w, HEIGHT], [0, HEIGHT]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(plate, matrix, (out_w, HEIGHT), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def degrade(strip: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Camera effects: low resolution, blur, noise, exposure, shadows, compression."""
    img = strip.astype(np.float32)
    h, w = img.shape[:2]
    if rng.random() < 0.6 * strength:
        # Seen small and scaled up: characters 10-40 px tall in the original frame.
        small_h = int(rng.integers(10, 40))
        small = cv2.resize(img, (max(4, round(w * small_h / h)), small_h),
                           interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    if rng.random() < 0.4 * strength:
        k = int(rng.integers(1, 3)) * 2 + 1
        img = cv2.GaussianBlur(img, (k, k), 0)
    if rng.random() < 0.2 * strength:
        length = int(rng.integers(3, 9))
        kernel = np.zeros((length, length), dtype=np.float32)
        kernel[length // 2, :] = 1.0 / length
        img = cv2.filter2D(img, -1, kernel)
    # Exposure and contrast, and a shadow across part of the plate.
    img = img * rng.uniform(0.5, 1.3) + rng.uniform(-40, 40)
    if rng.random() < 0.25 * strength:
        edge = int(rng.integers(0, w))
        shade = rng.uniform(0.4, 0.8)
        if rng.random() < 0.5:
            img[:, :edge] *= shade
        else:
            img[:, edge:] *= shade
    if rng.random() < 0.3:
        img = 255 * (np.clip(img, 0, 255) / 255) ** rng.uniform(0.6, 1.6)
    if rng.random() < 0.2:
        gray = img.mean(axis=2, keepdims=True)
        img = np.repeat(gray, 3, axis=2)
    img = img + rng.normal(0, rng.uniform(0, 10) * strength, img.shape)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.5 * strength:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 90))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def sample(seed: int) -> tuple[np.ndarray, str]:
    """One synthetic training line (BGR, 48 px tall) and its registration."""
    rng = np.random.default_rng(seed)
    text = random_text(rng)
    plate, box = render_plate(text, rng)
    return degrade(line_crop(plate, box, rng), rng), text


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "synthetic-lines.png")
    strips = [sample(i)[0] for i in range(24)]
    width = 320
    rows = [cv2.resize(s, (min(width, s.shape[1]), HEIGHT)) for s in strips]
    canvas = np.zeros((HEIGHT * len(rows), width, 3), dtype=np.uint8)
    for i, r in enumerate(rows):
        canvas[i * HEIGHT : (i + 1) * HEIGHT, : r.shape[1]] = r
    cv2.imwrite(str(out), canvas)
    print(" ".join(sample(i)[1] for i in range(24)))
