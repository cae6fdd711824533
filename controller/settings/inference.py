"""Recognition settings: OpenVINO device and model files."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from controller.settings.base import Section


class InferenceSettings(Section):
    """Which device runs recognition and which model files it loads."""

    device: Literal["CPU", "GPU", "NPU", "AUTO"] = Field(
        default="CPU", title="OpenVINO device", description="Device models are compiled for."
    )
    detector_model: Path | None = Field(
        default=None, title="Detector model",
        description="Plate/text detector (ONNX or OpenVINO IR); empty uses the shipped one.",
    )
    reader_model: Path | None = Field(
        default=None, title="Reader model",
        description="Character reader (ONNX or OpenVINO IR); empty uses the shipped one.",
    )
    min_confidence: float = Field(
        default=0.5, ge=0, le=1, title="Minimum confidence",
        description="Reads below this confidence are discarded.",
    )
    sample_fps: float = Field(
        default=10.0, gt=0, le=60, title="Sampling rate",
        description="Frames per second sampled per camera for recognition.",
    )
