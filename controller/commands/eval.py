"""``sightline eval``: the production recognition pipeline scored on a labelled folder."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click
import numpy as np

from controller.runtime import recognizer_config
from controller.settings import Settings
from controller.settings.inference import InferenceSettings
from controller.settings.loader import load_settings
from inference.evaluate import Report, evaluate, load_samples
from inference.pipeline import Recognizer


def _settings(ctx: click.Context) -> InferenceSettings:
    """The loaded settings' inference section (the CLI group loads them lazily)."""
    root = ctx.find_root().obj
    settings = getattr(root, "settings", None)
    if isinstance(settings, Settings):
        return settings.inference
    return load_settings(None).inference


def _print_report(report: Report, as_json: bool, show_failures: bool) -> None:
    summary = report.as_dict()
    if show_failures:
        for o in report.failures():
            hit = "box ok" if o.detected else ("box missed" if o.sample.box else "")
            click.echo(f"FAIL {o.sample.path}: truth {o.sample.plate} read {o.plate or '-'} {hit}")
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"images:            {summary['images']}")
    click.echo(f"exact matches:     {summary['exact']}")
    click.echo(f"accuracy:          {summary['accuracy']:.1%}")
    if summary["kind"] == "scenes":
        click.echo(f"plate detection:   {summary['detection_rate']:.1%} (IoU >= 0.5)")
    click.echo(f"seconds per image: mean {summary['seconds_per_image_mean']:.3f}, "
               f"median {summary['seconds_per_image_median']:.3f}")


@click.command("eval")
@click.option("--images", "images", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of scenes (NAME.jpg + NAME.txt) or crops (groundtruth.csv).")
@click.option("--json", "as_json", is_flag=True, help="End with one JSON object of the figures.")
@click.option("--show-failures", is_flag=True, help="List every image read wrongly.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Score the first N only.")
@click.pass_context
def command(ctx: click.Context, images: Path, as_json: bool, show_failures: bool,
            limit: int | None) -> None:
    """Score the recognition pipeline, one best read per still image."""
    samples = load_samples(images)[:limit]
    # eval scores the best read however unsure, so no confidence floor here.
    recognizer = Recognizer(replace(recognizer_config(_settings(ctx)), min_confidence=0.0))

    def best_read(image: np.ndarray) -> tuple[str, tuple[int, int, int, int]] | None:
        reads = recognizer.read_frame(image)
        return (reads[0].plate, reads[0].box) if reads else None

    _print_report(evaluate(samples, best_read), as_json, show_failures)
