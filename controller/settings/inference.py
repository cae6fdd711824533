"""Recognition settings: OpenVINO device and model files."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field

from controller.settings.base import Section

# What may find the plates to read (``InferenceSettings.first_stage``).
FirstStage = Literal["text", "plate"]
FIRST_STAGES: tuple[str, ...] = get_args(FirstStage)

class InferenceSettings(Section):
    """Which device runs recognition and which model files it loads."""

    device: Literal["CPU", "GPU", "NPU", "AUTO"] = Field(
        default="CPU", title="OpenVINO device", description="Device models are compiled for."
    )
    precision: Literal["auto", "f32", "bf16", "f16"] = Field(
        default="auto", title="Precision",
        description=(
            "What the networks compute in. auto: the detectors in f32, the readers in "
            "the device's own (bf16 on CPUs with AMX or AVX512-BF16: as many plates read "
            "in a third of the time). f32: every network, alike on every machine. bf16 "
            "or f16 (GPUs): every network, faster, fewer plates found (93 of 108 US test "
            "scenes instead of 95 on a Xeon with AMX)."
        ),
    )
    first_stage: FirstStage = Field(
        default="plate", title="First stage",
        description=(
            "What finds the plates to read. plate (the default): the plate detector, then "
            "the text detector on each plate alone; the whole frame where it finds no plate "
            "(at most twice a second while that finds none either) and in a picture smaller "
            "than the plate detector's input (a close-up). Its networks run in INT8. A "
            "fifteenth of the CPU per frame with a plate, and 4 cameras of 1080p on 2 "
            "cores read every passage once (text: about a third of them). text: the "
            "text detector over each frame that moved, as before 2026-12-03; on still "
            "pictures it reads 95 of 108 US test scenes (plate: 96), 76 of 108 European "
            "(77) and 74 of 114 Brazilian (72)."
        ),
    )
    warm_up: bool = Field(
        default=True, title="Warm up",
        description=(
            "At the first frame of a size, run every input shape such frames give the "
            "networks once (once per process and size: about 8 s of CPU at 720p, 5 more "
            "for 1080p, before that frame is read), so that memory is flat from the start "
            "at what it would reach only after hours or days of frames. 4 cameras of "
            "1080p on 2 cores for an hour: 1,400 MB after start-up, 1,393 at the end. "
            "Off, the first frames are read at once and memory grows towards that level "
            "as the frames meet the shapes."
        ),
    )
    detector_model: Path | None = Field(
        default=None, title="Detector model",
        description="Text detector (ONNX or OpenVINO IR); empty uses the shipped one.",
    )
    plate_detector_model: Path | None = Field(
        default=None, title="Plate detector model",
        description=(
            "Plate detector of the plate first stage (ONNX or OpenVINO IR); empty uses the "
            "shipped one in INT8, inference/models/plate_detector_int8.xml (its float "
            "original is plate_detector.onnx beside it)."
        ),
    )
    window_detector_model: Path | None = Field(
        default=None, title="Plate window detector model",
        description=(
            "Text detector the plate first stage runs on the window around each plate "
            "(ONNX or OpenVINO IR); empty uses the shipped INT8 copy of the text detector, "
            "inference/models/text_window_int8.xml, calibrated on such windows. The search "
            "of whole frames keeps the float Detector model."
        ),
    )
    reader_model: Path | None = Field(
        default=None, title="Reader model",
        description="Character reader (ONNX or OpenVINO IR); empty uses the shipped one.",
    )
    plate_reader: bool = Field(
        default=True, title="Plate reader",
        description=(
            "Read the plate candidates again with the plate reader trained for this project "
            "(training/ocr); off leaves the characters to the general text reader."
        ),
    )
    plate_reader_model: Path | None = Field(
        default=None, title="Plate reader model",
        description=(
            "Plate reader (ONNX or OpenVINO IR, with NAME.dict.txt beside it); empty uses "
            "the shipped inference/models/plate_reader.onnx."
        ),
    )
    min_confidence: float = Field(
        default=0.5, ge=0, le=1, title="Minimum confidence",
        description="Reads below this confidence are discarded.",
    )
    sample_fps: float = Field(
        default=10.0, gt=0, le=60, title="Sampling rate",
        description="Frames per second sampled per camera for recognition.",
    )
    detector_min_side: int = Field(
        default=640, ge=320, le=2048, title="Detector input size",
        description="Shorter side, in pixels, frames are scaled to for text detection.",
    )
    detector_extra_sides: tuple[int, ...] = Field(
        default=(832,), title="Extra detector sizes",
        description=(
            "Further detection passes at these shorter-side sizes, their lines added to the "
            "first pass's (finds plates one size misses); empty for a single, faster pass."
        ),
    )
    motion_threshold: float = Field(
        default=0.004, ge=0, le=1, title="Motion gate",
        description=(
            "Fraction of a recognition zone's pixels that must change between sampled frames "
            "for the frame to be recognised; 0 recognises every frame."
        ),
    )
    track_timeout_s: float = Field(
        default=1.5, gt=0, le=30, title="Track timeout",
        description="Seconds without a sighting after which a vehicle passage is closed and read.",
    )
    min_track_frames: int = Field(
        default=2, ge=1, le=50, title="Frames per passage",
        description=(
            "Sightings a passage needs before it yields a read (1 for a still image); a "
            "plate the camera could look at only once (its frames analysed 0.5 s or more "
            "apart) is read from that one sighting."
        ),
    )
