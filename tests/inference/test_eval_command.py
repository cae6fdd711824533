"""``sightline eval`` on folders in both label formats, rendered here."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner

from controller.commands.eval import command
from inference.errors import InferenceError
from inference.evaluate import iou, load_samples
from inference.synthetic import background, paste, render_plate

PLATES = ["7KDR391", "HB6L2Z", "482NTV"]


def write_scenes(folder: Path, labels: list[str]) -> None:
    """Rendered scenes in the OpenALPR benchmark format (image + NAME.txt)."""
    for i, (plate, label) in enumerate(zip(PLATES, labels, strict=True)):
        frame = background(720, 1280, seed=i)
        x, y, w, h = paste(frame, render_plate(plate, seed=i), 640, 400, 150)
        cv2.imwrite(str(folder / f"scene{i}.jpg"), frame)
        (folder / f"scene{i}.txt").write_text(f"scene{i}.jpg\t{x}\t{y}\t{w}\t{h}\t{label}\n")


def run(folder: Path, *extra: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(command, ["--images", str(folder), "--json", *extra])
    return result.exit_code, result.output.strip().splitlines()


def test_scenes_are_scored_against_the_truth_file(tmp_path: Path) -> None:
    # The last label is wrong on purpose: the pipeline must not see the truth.
    write_scenes(tmp_path, [PLATES[0], PLATES[1], "ZZZ999"])
    code, lines = run(tmp_path, "--show-failures")
    assert code == 0, lines
    summary = json.loads(lines[-1])
    assert summary["images"] == 3
    assert summary["exact"] == 2
    assert summary["accuracy"] == pytest.approx(2 / 3)
    assert summary["detection_rate"] == pytest.approx(1.0)
    assert summary["seconds_per_image_mean"] > 0
    assert summary["seconds_per_image_median"] > 0
    failures = [line for line in lines if line.startswith("FAIL")]
    assert len(failures) == 1 and "ZZZ999" in failures[0] and "482NTV" in failures[0]


def test_crops_are_scored_from_groundtruth_csv(tmp_path: Path) -> None:
    rows = []
    for i, plate in enumerate(PLATES):
        cv2.imwrite(str(tmp_path / f"c{i}.png"), render_plate(plate, seed=i))
        rows.append(f"c{i}.png,ca,{plate}")
    (tmp_path / "groundtruth.csv").write_text("\n".join(rows) + "\n")
    code, lines = run(tmp_path)
    assert code == 0, lines
    summary = json.loads(lines[-1])
    assert summary["images"] == 3
    assert summary["exact"] == 3
    assert summary["detection_rate"] == 0.0  # crops carry no boxes


def test_human_readable_output(tmp_path: Path) -> None:
    write_scenes(tmp_path, PLATES)
    result = CliRunner().invoke(command, ["--images", str(tmp_path), "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "accuracy:" in result.output and "100.0%" in result.output


def test_a_folder_without_labels_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "x.jpg").write_bytes(b"")
    with pytest.raises(InferenceError, match=r"no groundtruth\.csv"):
        load_samples(tmp_path)


def test_iou() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
