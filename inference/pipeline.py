"""Recognition pipeline: a masked frame in, plate reads out.

No network I/O and no database: the caller (the controller) hands in frames
that privacy masks have already blacked out, as BGR numpy arrays with their
timestamps, and stores what comes back.

Two stages, each one method, one path for every caller (the controller's
per-camera worker threads, evaluation, benchmarks, training):

* detection, ``Recognizer.text_lines``: a :class:`LineDetector` finds the
  lines that may be registrations, over the frame or a region of it; the
  PP-OCR text detector (:class:`TextLineDetector`) is the default, the plate
  first stage (``inference.plate_lines``, ``RecognizerConfig.first_stage``) the
  other choice, and any detector with the same ``detect`` method can take its
  place;
* reading, ``Recognizer.read_lines``: the readers read those lines and the
  most plate-like reads come out.

``Recognizer.read_frame`` is the two in a row.  ``inference.camera`` calls them
separately, so that a plate already read with confidence is followed by
detection alone (the reading budget).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from inference.candidates import (
    VARIANTS,
    Candidate,
    distinct_lines,
    geometric_filter,
    line_overlap,
    merged_pairs,
    rank,
    score_line,
    variant_boxes,
    vote_variants,
)
from inference.detector import TextBox, boxes_from_map, crop_line, prepare, scale_for
from inference.errors import ModelError
from inference.openvino import CompiledModel, alphabet, narrowed, read_model, resolve_model
from inference.plate_detector import PLATE_DETECTOR_INT8_FILE, PlateDetector
from inference.plate_lines import WINDOW_DETECTOR_FILE, PlateLineDetector, check_window_detector
from inference.plates import GENERAL_READER, PLATE_READER
from inference.reader import PlateDecoder, batch_tensor
from inference.shapes import (
    BATCH_SIZES,
    MAX_BATCH,
    READER_WIDTHS,
    at_scale,
    region_sides,
    snapped,
)
from inference.stacked import without_stacked

Region = tuple[int, int, int, int]  # x, y, w, h in frame pixels
DetInput = tuple[np.ndarray, float, float, int, int]  # tensor, x/y scale, x/y offset

DETECTOR_FILE = "PP-OCRv6_det_small.onnx"
READER_FILE = "PP-OCRv6_rec_small.onnx"
# The plate reader trained for this project (training/ocr, `make train-ocr`).
PLATE_READER_FILE = "plate_reader.onnx"
# See RecognizerConfig.detector_hint (measured in bench/bench_recognition.py).
DETECTOR_HINT = "LATENCY"
# The largest picture the text detector is given whole, in pixels: a whole 16:9 frame
# at its first size (640 x 1152).  The detector's one stream keeps buffers for the
# largest picture it has met, and they grow with its area: 1080p regions fed in a random
# order took its heap in use from 175 to 641 MB, 157 MB of it at the largest alone, the
# whole frame at the second size (832 x 1472).  A larger picture is run as two halves
# (``halves``), each its own inference, so no request ever holds more than this.
MAX_PICTURE = 640 * 1152
# Each half reaches this many pixels past the middle, where the other half's map takes
# over, so the map near a cut edge is never used: about the width of a near plate at the
# second size (a 300-pixel plate of a 1080p frame is 130 there), so a plate across the
# middle lies whole in both halves.  With 64, eval read one us-scenes-dev scene fewer
# (95 of 108); with 128 the same 96, 77 and 72 of dev, eu and br as the whole picture.
SEAM_MARGIN = 128
# The blank picture (height, width) a recognizer reads once when it is built, so that a
# model of the wrong shape is an error at start rather than at the first frame.
WARM_UP = (96, 160)
# Candidates re-read on crop variants after the first pass.
REFINE_TOP = 8
# A line the plate reader reads in a plate format with every character at least this
# likely is not given to the general reader: nine to one for each character, the chance
# of a read that is wrong somewhere being about ten times less than of one that is right.
SURE = 0.9


@dataclass(frozen=True)
class RecognizerConfig:
    """What the recognizer needs: device, model files, thresholds (no settings import)."""

    device: str = "CPU"
    # What finds the lines to read: "text", the PP-OCR text detector over the frame (at
    # every size below); "plate", the plate detector, then the text detector on a small
    # window around each plate it found (inference.plate_lines), the text detector over
    # the frame only where it found no plate. bench/bench_recognition.py and
    # `sightline eval` measure the two.
    first_stage: Literal["text", "plate"] = "text"
    detector_model: Path | None = None
    # The plate detector of the "plate" first stage; None for the shipped one's INT8 twin
    # (inference/models/plate_detector_int8.xml).
    plate_detector_model: Path | None = None
    # The text detector the plate first stage runs on the windows around plates; None
    # for the shipped INT8 copy of PP-OCR's, calibrated on such windows
    # (inference/models/text_window_int8.xml, training/windows/quantize.py).  The search
    # of whole frames keeps ``detector_model`` in float.
    window_detector_model: Path | None = None
    # OpenVINO's performance hint for the plate first stage's two networks (the plate
    # detector and the window detector).  THROUGHPUT: one stream per core, each request
    # on one thread.  Their inputs are small, so a second thread gains little time per
    # request and costs its share of CPU in waiting; bench/bench_recognition.py
    # (budget_plate against budget_plate_before, same run) measures the two.
    plate_stage_hint: str = "THROUGHPUT"
    reader_model: Path | None = None
    # Second pass: the candidates the general reader chose are read again by the
    # plate reader, which decides the characters.  False keeps the general reader's.
    plate_reader: bool = True
    plate_reader_model: Path | None = None
    min_confidence: float = 0.0
    detector_min_side: int = 640
    # Extra detector sizes whose lines are added (a plate the first size misses or
    # splits is often found whole at another); empty for one pass.
    detector_extra_sides: tuple[int, ...] = (832,)
    detector_max_side: int = 1600
    detector_max_upscale: float = 2.0
    # OpenVINO's performance hint for the readers (see inference.openvino).  THROUGHPUT:
    # two streams on 2 cores, one request each, so two cameras' threads compute at once.
    # bench/bench_recognition.py, 720p, 2 cores, same runs: 4 cameras 4.82 frames/s
    # against 3.42 with LATENCY (4.49 vs 3.14 in another run), 8 cameras 5.31 vs 4.29, and
    # 10-16% less CPU per passage; but 1 camera 2.53 vs 3.53 (one request uses one core).
    performance_hint: str = "THROUGHPUT"
    # The hint for the text detector, None for the readers' hint.  A stream keeps its own
    # buffers for the largest input it has seen, and the detector's inputs are whole
    # frames and regions at up to two sizes: its second stream holds about 180 MB more
    # with 4 cameras (bench), the readers' second stream 40 MB.
    detector_hint: str | None = DETECTOR_HINT
    # The hint for the general reader, None for the readers' hint.  With the plate reader
    # on, it reads only the lines the plate reader is unsure of, so a second stream would
    # sit idle most of the time and still keep its own buffers and kernels: warmed alone
    # with every 1080p shape (a throwaway probe: the growth of resident memory over its
    # CompiledModel.warm), one LATENCY request held 171 MB, two THROUGHPUT requests 224
    # MB.  LATENCY runs its one request on every core.
    general_reader_hint: str | None = "LATENCY"
    # What the networks compute in: "auto", the detectors in f32 and the readers in the
    # device's own precision (bf16 where the CPU has it: as many plates read, at 0.37 of
    # the time; see inference.openvino.PRECISIONS); or one of PRECISIONS for every network.
    precision: str = "auto"

    @property
    def detector_precision(self) -> str:
        """What the detectors compute in (see ``precision``)."""
        return "f32" if self.precision == "auto" else self.precision

    @property
    def reader_precision(self) -> str | None:
        """What the readers compute in; None for the device's own (see ``precision``)."""
        return None if self.precision == "auto" else self.precision
    # Infer requests per model: 0 for one per stream (inference.openvino.CompiledModel).
    infer_requests: int = 0


@dataclass(frozen=True)
class PlateRead:
    """One plate read from one frame."""

    plate: str
    confidence: float
    char_confidences: tuple[float, ...]
    box: tuple[int, int, int, int]  # the plate, estimated from its characters: x, y, w, h
    line_box: tuple[int, int, int, int]  # the characters' line as detected
    raw: str
    fits_format: bool
    score: float
    crop: np.ndarray = field(repr=False, compare=False)


class LineDetector(Protocol):
    """The detection stage: where the lines that may be registrations are.

    A line is a :class:`TextBox` in frame pixels around a plate's characters; the
    readers rectify and read it.  A plate detector that finds registrations directly
    fits behind this interface as well as the PP-OCR text detector does.
    """

    def detect(self, frame: np.ndarray, region: Region | None = None, *,
               quick: bool = False, search: bool = True,
               followed: Sequence[Region] = ()) -> list[TextBox]:
        """Lines in the frame (or in one region of it, in frame pixels).

        ``quick`` asks for the detector's cheapest effort that still finds plates it
        is known to be looking at (the camera only follows plates already read); a
        detector with a single effort ignores it.  ``followed``: boxes (x, y, w, h)
        where plates the camera only follows are expected; a detector that looks at
        each plate on its own may give those its quick effort and the rest its full
        one (others ignore it).  ``search`` False forbids a second
        stage's costly search of the whole frame where the first stage finds nothing
        (the camera rations it, see ``inference.camera``); a detector that has no such
        second stage ignores it.
        """
        ...

    def prepare_for(self, height: int, width: int) -> None:
        """Run every input shape frames of this size can give the stage's networks once
        (``CompiledModel.warm``), so that none is met for the first time later."""
        ...


class TextLineDetector:
    """PP-OCR's DB text detector, at one or more sizes, kept to plate-like lines."""

    def __init__(self, config: RecognizerConfig) -> None:
        self.config = config
        path = resolve_model(config.detector_model, DETECTOR_FILE)
        self.model = CompiledModel(path, config.device,
                                   hint=config.detector_hint or config.performance_hint,
                                   precision=config.detector_precision,
                                   requests=config.infer_requests)

    def pictures(self, height: int, width: int) -> set[tuple[int, int]]:
        """Every picture (H, W) the network is given for frames of this size: at each
        detector size, the whole frame and each region the ladder of
        ``inference.shapes`` allows, a picture over MAX_PICTURE as its halves."""
        cfg = self.config
        out = set()
        for side in (cfg.detector_min_side, *cfg.detector_extra_sides):
            ratio = scale_for((height, width), side, cfg.detector_max_side,
                              cfg.detector_max_upscale)
            out |= {run_as(h, w) for h in region_sides(at_scale(height, ratio))
                    for w in region_sides(at_scale(width, ratio))}
        return out

    def prepare_for(self, height: int, width: int) -> None:
        """See :meth:`LineDetector.prepare_for`: every picture of ``pictures``."""
        self.model.warm((1, 3, h, w) for h, w in self.pictures(height, width))

    def _probabilities(self, tensor: np.ndarray) -> np.ndarray:
        """The detector's text probability map of one picture (1, 3, H, W), (H, W); a
        picture over MAX_PICTURE is run as two overlapping halves (``halves``)."""
        pieces = halves(tensor)
        if len(pieces) == 1:
            return np.asarray(self.model.infer(tensor)[0, 0])
        first, second = (self.model.infer(piece)[0, 0] for piece in pieces)
        # Each half's map is kept up to the middle, SEAM_MARGIN or more from its cut edge;
        # the maps are (H, W), so the cut's axis is the tensor's less two.
        axis = long_axis(tensor) - 2
        length = tensor.shape[long_axis(tensor)]
        middle, start = length // 2, length - second.shape[axis]
        head = first[:, :middle] if axis else first[:middle]
        tail = second[:, middle - start :] if axis else second[middle - start :]
        return np.concatenate([head, tail], axis=axis)

    def _inputs(self, frame: np.ndarray, region: Region | None,
                quick: bool) -> list[DetInput]:
        """Detector tensors for each pass (the first alone when quick), over the whole
        frame or one region of it."""
        cfg = self.config
        fh, fw = frame.shape[:2]
        out = []
        sides = (cfg.detector_min_side,) if quick else (cfg.detector_min_side,
                                                        *cfg.detector_extra_sides)
        for side in sides:
            # A region is detected at the whole frame's scale: plates look the same size.
            ratio = scale_for(frame.shape, side, cfg.detector_max_side, cfg.detector_max_upscale)
            if region is None:
                x0, y0, w, h = 0, 0, fw, fh
            else:
                # Grown over the frame to one of a few sizes (see inference.shapes).
                x0, w = snapped(region[0], region[2], fw, ratio)
                y0, h = snapped(region[1], region[3], fh, ratio)
            tensor, sx, sy = prepare(frame[y0 : y0 + h, x0 : x0 + w], side,
                                     cfg.detector_max_side, ratio=ratio)
            out.append((tensor, sx, sy, x0, y0))
        return out

    def detect(self, frame: np.ndarray, region: Region | None = None, *,
               quick: bool = False, search: bool = True,
               followed: Sequence[Region] = ()) -> list[TextBox]:
        """Plate-like lines from every detector pass, joined halves added, duplicates
        dropped, stacked characters at their ends cut off (the whole frame or region is
        what this detector always searches: ``search`` and ``followed`` change nothing).

        ``quick`` runs the first pass alone: the extra sizes find plates the first one
        misses or splits, which matters for reading a plate, not for following one
        already read (the first pass costs 1/2.7 of both at 640 and 832 px).
        """
        found: list[TextBox] = []
        for tensor, sx, sy, ox, oy in self._inputs(frame, region, quick):
            prob = self._probabilities(tensor)
            shifted = [
                TextBox(quad=b.quad + np.array([ox, oy], dtype=np.float32), score=b.score)
                for b in boxes_from_map(prob, sx, sy)
            ]
            boxes = geometric_filter(shifted, frame.shape)
            if region is not None:
                # What the region's growth alone brought in is not looked at.
                boxes = [b for b in boxes if overlaps(b, region)]
            found.extend(boxes + merged_pairs(boxes))
        return [without_stacked(frame, box) for box in distinct_lines(found)]


def long_axis(tensor: np.ndarray) -> int:
    """The axis of a (1, 3, H, W) picture's longer side: 3 (W) or 2 (H)."""
    return 3 if tensor.shape[3] >= tensor.shape[2] else 2


def half(length: int) -> int:
    """The length of each half of a picture's side cut in two: half of it and
    SEAM_MARGIN, rounded up to the network's stride of 32."""
    return -(-(length // 2 + SEAM_MARGIN) // 32) * 32


def run_as(height: int, width: int) -> tuple[int, int]:
    """The (H, W) the detector runs a picture of this size as (``halves``)."""
    if height * width <= MAX_PICTURE:
        return height, width
    return (height, half(width)) if width >= height else (half(height), width)


def halves(tensor: np.ndarray) -> list[np.ndarray]:
    """A detector picture (1, 3, H, W) as the detector is given it: whole up to
    MAX_PICTURE pixels, else cut across its longer side into two halves (``half``) that
    overlap by twice SEAM_MARGIN, the first from the start, the second to the end."""
    _, _, h, w = tensor.shape
    piece = run_as(h, w)
    if piece == (h, w):
        return [tensor]
    axis = long_axis(tensor)
    length, size = tensor.shape[axis], piece[axis - 2]
    return [np.ascontiguousarray(tensor.take(np.arange(a, a + size), axis=axis))
            for a in (0, length - size)]


def overlaps(box: TextBox, region: Region) -> bool:
    """Whether a line's bounding box and a region share any pixel."""
    x, y, w, h = box.bbox()
    rx, ry, rw, rh = region
    return x < rx + rw and rx < x + w and y < ry + rh and ry < y + h


class Recognizer:
    """Detector and reader compiled once; shared by every camera."""

    def __init__(self, config: RecognizerConfig | None = None,
                 detector: LineDetector | None = None) -> None:
        self.config = config or RecognizerConfig()
        cfg = self.config
        rec_path = resolve_model(cfg.reader_model, READER_FILE)
        self.detector: LineDetector = detector or _first_stage(cfg)
        general_hint = cfg.general_reader_hint if cfg.plate_reader else None
        self.reader, self.decoder = _load_reader(rec_path, cfg, general_hint)
        self.plate_reader: CompiledModel | None = None
        self.plate_decoder = self.decoder
        if cfg.plate_reader:
            path = resolve_model(cfg.plate_reader_model, PLATE_READER_FILE)
            self.plate_reader, self.plate_decoder = _load_reader(path, cfg)
        # The frame sizes prepare_for has run (and a lock: cameras share the recognizer).
        self._prepared: set[tuple[int, int]] = set()
        self._preparing = threading.Lock()
        # Shape problems surface now, not at the first frame: one blank frame end to end.
        try:
            self.read_frame(np.zeros((*WARM_UP, 3), dtype=np.uint8))
        except Exception as exc:
            raise ModelError(str(rec_path), f"does not run: {exc}") from exc

    def prepare_for(self, height: int, width: int) -> None:
        """Meet now every input shape frames of this size give the networks (each once,
        on each of their requests: ``CompiledModel.warm``), not one by one over hours of
        frames: the process holds from the first frame what it would hold after them.
        The first call warms the readers too (their shapes do not depend on the frame).
        Once per frame size; a camera's first frame of a size calls it."""
        with self._preparing:
            if (height, width) in self._prepared:
                return
            if not self._prepared:
                strips = [(n, 3, 48, w) for n in BATCH_SIZES for w in READER_WIDTHS]
                for reader in (self.reader, self.plate_reader):
                    if reader is not None:
                        reader.warm(strips)
            self.detector.prepare_for(height, width)
            self._prepared.add((height, width))

    def _candidates(
        self, frame: np.ndarray, boxes: list[TextBox], probs: list[np.ndarray]
    ) -> list[Candidate]:
        """Score every line's read as a plate; the most plate-like first."""
        pairs = zip(boxes, probs, strict=True)
        scored = (score_line(b, self.decoder.decode(p), frame.shape) for b, p in pairs)
        return rank([c for c in scored if c is not None])[:REFINE_TOP]

    def _finish(
        self,
        frame: np.ndarray,
        first: list[Candidate],
        general: list[np.ndarray],
        plate: list[np.ndarray],
    ) -> list[Candidate]:
        """Vote each candidate's reads over its crop variants.

        ``general`` holds the general reader's outputs for the candidates' crop variants;
        ``plate`` the plate reader's for the candidates and then their variants (empty
        without a plate reader).  Every read of a line votes, weighted by its score.
        """
        voted: list[Candidate] = []
        per = len(VARIANTS)
        n = len(first)
        for i, cand in enumerate(first):
            # The first read is re-scored without the frame-relative bonus rank() gave it.
            lines = [(cand.line, GENERAL_READER)] + [
                (self.decoder.decode(p), GENERAL_READER) for p in general[i * per : (i + 1) * per]
            ]
            if plate:
                own = [plate[i], *plate[n + i * per : n + (i + 1) * per]]
                lines += [(self.plate_decoder.decode(p), PLATE_READER) for p in own]
            scored = [score_line(cand.box, ln, frame.shape, priors) for ln, priors in lines]
            kept = [c for c in scored if c is not None]
            if kept:
                voted.append(vote_variants(kept, len(lines)))
        return voted

    def _reads(self, frame: np.ndarray, voted: list[Candidate]) -> list[PlateRead]:
        """Voted lines as reads, most plate-like first, overlapping ones dropped."""
        out = [_to_read(frame, c) for c in _distinct(rank(voted))]
        return [r for r in out if r.confidence >= self.config.min_confidence]

    def _read(self, frame: np.ndarray, boxes: list[TextBox],
              model: CompiledModel | None = None) -> list[np.ndarray]:
        """Reader outputs for the lines, in order, batched by similar width."""
        model = model or self.reader
        crops = [crop_line(frame, b.quad) for b in boxes]
        probs: list[np.ndarray] = [np.empty(0)] * len(crops)
        for idx in _chunks(crops):
            out = model.infer(batch_tensor([crops[i] for i in idx]))
            for i, p in zip(idx, out, strict=True):
                probs[i] = p
        return probs

    def text_lines(self, frame: np.ndarray, region: Region | None = None, *,
                   quick: bool = False, search: bool = True,
                   followed: Sequence[Region] = ()) -> list[TextBox]:
        """The detection stage: every plate-like line the detector finds (training data
        uses these too); ``quick``, ``search``, ``followed``: see
        :meth:`LineDetector.detect`."""
        return self.detector.detect(frame, region, quick=quick, search=search,
                                    followed=followed)

    def read_lines(self, frame: np.ndarray, boxes: list[TextBox]) -> list[PlateRead]:
        """The reading stage: plate reads from these lines of the frame, most plate-like
        first (none without lines, and then no reader runs).

        The plate reader reads every line first.  A line it is sure of (a plate format,
        every character above SURE) is voted over its crop variants by the plate reader
        alone; the general reader reads only the other lines, which go the whole way
        (both readers on the line and its variants).
        """
        if not boxes:
            return []
        if self.plate_reader is None:
            first = self._candidates(frame, boxes, self._read(frame, boxes))
            variants = variant_boxes(first)
            return self._reads(frame, self._finish(frame, first, self._read(frame, variants), []))
        own = self._read(frame, boxes, self.plate_reader)
        sure: list[Candidate] = []
        unsure: list[int] = []
        for i, (box, probs) in enumerate(zip(boxes, own, strict=True)):
            cand = score_line(box, self.plate_decoder.decode(probs), frame.shape, PLATE_READER)
            if (cand is not None and cand.ranked.fits_format
                    and min(cand.ranked.confidences, default=0.0) >= SURE):
                sure.append(cand)
            else:
                unsure.append(i)
        voted = self._sure(frame, sure)
        if unsure:
            lines = [boxes[i] for i in unsure]
            first = self._candidates(frame, lines, self._read(frame, lines))
            variants = variant_boxes(first)
            general = self._read(frame, variants)
            # The plate reader's reads of the candidates are those it made above.
            mine = {id(boxes[i]): own[i] for i in unsure}
            plate = [mine[id(c.box)] for c in first] + self._read(frame, variants,
                                                                 self.plate_reader)
            voted += self._finish(frame, first, general, plate)
        return self._reads(frame, voted)

    def _sure(self, frame: np.ndarray, sure: list[Candidate]) -> list[Candidate]:
        """Lines the plate reader is sure of, voted over their crop variants read by it."""
        if not sure:
            return []
        per = len(VARIANTS)
        variants = self._read(frame, variant_boxes(sure), self.plate_reader)
        voted = []
        for i, cand in enumerate(sure):
            lines = [cand.line] + [self.plate_decoder.decode(p)
                                   for p in variants[i * per : (i + 1) * per]]
            scored = [score_line(cand.box, ln, frame.shape, PLATE_READER) for ln in lines]
            voted.append(vote_variants([c for c in scored if c is not None], len(lines)))
        return voted

    def read_frame(self, frame: np.ndarray, region: Region | None = None) -> list[PlateRead]:
        """All plate reads in one frame (or one region of it), most plate-like first."""
        return self.read_lines(frame, self.text_lines(frame, region))


def _first_stage(cfg: RecognizerConfig) -> LineDetector:
    """The configured detection stage; the plate-first one shares the text detector's
    compiled model with its whole-frame fallback."""
    text = TextLineDetector(cfg)
    if cfg.first_stage == "text":
        return text
    plates = PlateDetector(resolve_model(cfg.plate_detector_model, PLATE_DETECTOR_INT8_FILE),
                           cfg.device, precision=cfg.detector_precision,
                           hint=cfg.plate_stage_hint, requests=cfg.infer_requests)
    windows = CompiledModel(resolve_model(cfg.window_detector_model, WINDOW_DETECTOR_FILE),
                            cfg.device, hint=cfg.plate_stage_hint,
                            precision=cfg.detector_precision, requests=cfg.infer_requests)
    check_window_detector(windows)
    return PlateLineDetector(plates, windows, fallback=text)


def _load_reader(path: Path, cfg: RecognizerConfig,
                 hint: str | None = None) -> tuple[CompiledModel, PlateDecoder]:
    """Compile a reader (with ``hint``, else the readers' own) and its decoder; a reader
    must take a (N, 3, 48, W) strip and give (N, T, classes) over its alphabet, which is
    checked now rather than at the first frame.  It is compiled with its output narrowed
    to what the decoder reads (``inference.openvino.narrowed``)."""
    network = read_model(path)
    chars = alphabet(path, network)
    try:
        decoder = PlateDecoder(chars)
    except ValueError as exc:
        raise ModelError(str(path), str(exc)) from exc
    model = CompiledModel(path, cfg.device, hint=hint or cfg.performance_hint,
                          requests=cfg.infer_requests, precision=cfg.reader_precision,
                          network=narrowed(network, path, len(chars), decoder.columns))
    try:
        model.infer(batch_tensor([np.zeros((48, 160, 3), dtype=np.uint8)]))
    except Exception as exc:
        raise ModelError(str(model.path), f"does not run: {exc}") from exc
    return model, decoder


def _chunks(crops: list[np.ndarray]) -> list[list[int]]:
    """Indices of recognition batches; similar widths together so padding stays small."""
    order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / crops[i].shape[0])
    # As many as a network is given at once (inference.shapes.MAX_BATCH).
    return [order[i : i + MAX_BATCH] for i in range(0, len(order), MAX_BATCH)]


def _distinct(candidates: list[Candidate]) -> list[Candidate]:
    """Drop candidates overlapping a better one (a merged line and its halves)."""
    kept: list[Candidate] = []
    for cand in candidates:
        if all(line_overlap(cand.box, k.box) < 0.3 for k in kept):
            kept.append(cand)
    return kept


def _to_read(frame: np.ndarray, cand: Candidate) -> PlateRead:
    """Package a candidate as a read, with the plate crop a person can check."""
    line = cand.box.bbox()
    x, y, w, h = plate_box(line, frame.shape)
    crop = frame[y : y + h, x : x + w].copy()
    return PlateRead(
        plate=cand.plate,
        confidence=min(cand.ranked.confidences) if cand.ranked.confidences else 0.0,
        char_confidences=cand.ranked.confidences,
        box=(x, y, w, h),
        line_box=line,
        raw=cand.line.raw,
        fits_format=cand.ranked.fits_format,
        score=cand.score,
        crop=crop,
    )


def plate_box(
    line: tuple[int, int, int, int], frame_shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    """The plate around a line of registration characters, clipped to the frame."""
    x, y, w, h = line
    # A US plate is 2:1 and its registration spans nearly its whole width, so the
    # plate is about as wide as the detected line and half as tall as wide.
    pw = w
    ph = max(h, w / 2)
    cx, cy = x + w / 2, y + h / 2
    x0 = int(max(0, round(cx - pw / 2)))
    y0 = int(max(0, round(cy - ph / 2)))
    x1 = int(min(frame_shape[1], round(cx + pw / 2)))
    y1 = int(min(frame_shape[0], round(cy + ph / 2)))
    return x0, y0, x1 - x0, y1 - y0
