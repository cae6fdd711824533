"""Sightline recognition: masked frames in, plate reads out.

Modules, in the order a frame meets them:

* ``openvino``: models compiled once (CPU/GPU/NPU/AUTO), one pool of infer requests shared
  by every camera's worker thread.
* ``motion``: the motion gate (skip frames with no change in the recognition zones).
* ``detector``: PP-OCR DB text detection and line geometry.
* ``candidates``: plate-like lines, joined halves, crop variants, plate-likeness scores.
* ``reader``: batched CTC reading restricted to A-Z0-9 with per-character probabilities.
* ``plates``: normalisation, US per-state formats, look-alike confusions, format decoding.
* ``pipeline``: ``Recognizer``, one frame to ranked ``PlateRead`` objects, in two stages
  (a line detector behind a small interface, then the readers).
* ``tracker`` and ``camera``: multi-frame consensus, one read per vehicle passage, and the
  reading budget (a plate read with confidence is followed, not read again).
* ``evaluate``: scoring on labelled folders (``sightline eval``).
* ``synthetic``: rendered plates and clips for tests and benchmarks.

This package never imports ``controller``, ``cameras`` or ``web``.
"""
