"""When does a mask change hide less (462.7.1(1))? Property tests against pixel coverage.

The oracle never looks at the code under test: masks are rectangles on a 10x10
grid of the frame, drawn from any corner in either direction, and the oracle
counts pixel centres of a 40x40 raster inside any rectangle. A grid rectangle's
edges fall between pixel centres, so "some pixel was masked before and is not
after" is exactly "the masks after do not cover the area hidden before".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from controller.operations.mask_geometry import hides_less
from controller.operations.masks import plan_change

GRID = 10
PIXELS = 40
MASK, ZONE = "privacy_mask", "recognition_zone"
Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in grid cells, x0 < x1, y0 < y1


def raster(rects: list[Rect]) -> npt.NDArray[np.bool_]:
    """Pixels whose centre lies inside any rectangle (independent of the code)."""
    centres = (np.arange(PIXELS) + 0.5) / PIXELS * GRID
    xs, ys = np.meshgrid(centres, centres)
    hidden = np.zeros((PIXELS, PIXELS), dtype=bool)
    for x0, y0, x1, y1 in rects:
        hidden |= (xs > x0) & (xs < x1) & (ys > y0) & (ys < y1)
    return hidden


def oracle_hides_less(before: list[Rect], after: list[Rect]) -> bool:
    return bool((raster(before) & ~raster(after)).any())


@st.composite
def rects(draw: st.DrawFn) -> Rect:
    x0, x1 = sorted(draw(st.lists(st.integers(0, GRID), min_size=2, max_size=2, unique=True)))
    y0, y1 = sorted(draw(st.lists(st.integers(0, GRID), min_size=2, max_size=2, unique=True)))
    return x0, y0, x1, y1


@st.composite
def polygon(draw: st.DrawFn, rect: Rect) -> list[list[float]]:
    """The rectangle as a polygon from any corner, clockwise or not."""
    x0, y0, x1, y1 = rect
    corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    start = draw(st.integers(0, 3))
    corners = corners[start:] + corners[:start]
    if draw(st.booleans()):
        corners.reverse()
    return [[x / GRID, y / GRID] for x, y in corners]


def to_rect(points: list[list[float]]) -> Rect:
    xs = [round(x * GRID) for x, _ in points]
    ys = [round(y * GRID) for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.lists(rects(), max_size=4), st.lists(rects(), max_size=4))
def test_hides_less_agrees_with_pixel_coverage(data: st.DataObject, before: list[Rect],
                                               after: list[Rect]) -> None:
    polys_before = [data.draw(polygon(r)) for r in before]
    polys_after = [data.draw(polygon(r)) for r in after]
    assert hides_less(polys_before, polys_after) == oracle_hides_less(before, after)


@st.composite
def edits(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Regions in force, and what an editor sends back: kept, grown, shrunk, moved,
    removed, retyped, renamed, plus new masks and zones."""
    current = []
    for i, (kind, rect) in enumerate(draw(st.lists(
            st.tuples(st.sampled_from([MASK, MASK, ZONE]), rects()), max_size=5)), start=1):
        current.append({"id": i, "kind": kind, "name": f"r{i}", "polygon": draw(polygon(rect))})
    wanted: list[dict[str, Any]] = []
    for region in current:
        action = draw(st.sampled_from(["keep", "redraw", "remove", "retype", "rename"]))
        if action == "keep":
            wanted.append(dict(region))
        elif action == "redraw":
            wanted.append({**region, "polygon": draw(polygon(draw(rects())))})
        elif action == "retype":
            wanted.append({**region, "kind": MASK if region["kind"] == ZONE else ZONE})
        elif action == "rename":
            wanted.append({**region, "name": region["name"] + "x"})
    for n, (kind, rect) in enumerate(draw(st.lists(
            st.tuples(st.sampled_from([MASK, ZONE]), rects()), max_size=2))):
        wanted.append({"id": None, "kind": kind, "name": f"new{n}",
                       "polygon": draw(polygon(rect))})
    return current, draw(st.permutations(wanted))


def masks_of(regions: list[dict[str, Any]]) -> list[Rect]:
    return [to_rect(r["polygon"]) for r in regions if r["kind"] == MASK]


def carry_out(immediate: list[dict[str, Any]], held: list[dict[str, Any]]
              ) -> list[dict[str, Any]]:
    """What approving every held change does to the regions applied at once."""
    out = []
    changes = {c["region_id"]: c for c in held}
    for region in immediate:
        change = changes.get(region.get("id"))
        if change is None:
            out.append(region)
        elif change["after"] is not None:
            out.append({"id": region["id"], **change["after"]})
    return out


def canonical(regions: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((str(r.get("id")), r["kind"], r["name"], str(r["polygon"])) for r in regions)


@settings(max_examples=200, deadline=None)
@given(edits())
def test_plan_holds_exactly_what_hides_less(case: tuple[list[dict[str, Any]],
                                                        list[dict[str, Any]]]) -> None:
    current, wanted = case
    plan = plan_change(current, wanted)  # type: ignore[arg-type]
    # Something is held back exactly when the editor's masks would leave a pixel visible.
    assert bool(plan["held"]) == oracle_hides_less(masks_of(current), masks_of(wanted))
    # What applies at once never leaves a masked pixel visible.
    assert not oracle_hides_less(masks_of(current), masks_of(plan["immediate"]))
    # Held changes are only ever removals, shrinks or retypes of masks in force, each
    # keeping the mask exactly as it is until approved.
    in_force = {r["id"]: r for r in current}
    for change in plan["held"]:
        old = in_force[change["region_id"]]
        assert old["kind"] == MASK
        assert change["before"] == {k: old[k] for k in ("kind", "name", "polygon")}
        kept = [r for r in plan["immediate"] if r.get("id") == old["id"]]
        assert [{k: r[k] for k in ("kind", "name", "polygon")} for r in kept] == [
            change["before"]]
    # Approving every held change gives what the editor asked for.
    assert canonical(carry_out(plan["immediate"], plan["held"])) == canonical(wanted)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 6.28), min_size=3, max_size=12, unique=True),
       st.floats(0.05, 0.3), st.floats(1.02, 1.3), st.floats(0.5, 0.98))
def test_growing_about_the_centre_hides_no_less_shrinking_does(
        angles: list[float], radius: float, grow: float, shrink: float) -> None:
    """Convex masks (points on a circle): scaled up about their centroid they still
    cover themselves, scaled down they do not (construction is the oracle)."""
    points = [(0.5 + radius * np.cos(a), 0.5 + radius * np.sin(a)) for a in sorted(angles)]
    cx = sum(x for x, _ in points) / len(points)
    cy = sum(y for _, y in points) / len(points)

    def scaled(k: float) -> list[list[float]]:
        return [[cx + k * (x - cx), cy + k * (y - cy)] for x, y in points]

    area = 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1)
                         in zip(points, points[1:] + points[:1], strict=True)))
    assume(area > 1e-4)  # points nearly on a line: no area to speak of
    original = [[x, y] for x, y in points]
    assert not hides_less([original], [scaled(grow)])
    assert not hides_less([original], [original])
    assert hides_less([original], [scaled(shrink)])
    assert hides_less([original], [])


def test_a_mask_moved_onto_one_that_is_removed_holds_both() -> None:
    """Mask 1 moves from A onto B, where mask 2 was; mask 2 is deleted. B stays covered
    by the editor's masks, but moving mask 1 is held, so deleting mask 2 must be too."""
    a = [[0.0, 0.0], [0.2, 0.0], [0.2, 0.2], [0.0, 0.2]]
    b = [[0.5, 0.5], [0.7, 0.5], [0.7, 0.7], [0.5, 0.7]]
    current = [{"id": 1, "kind": MASK, "name": "A", "polygon": a},
               {"id": 2, "kind": MASK, "name": "B", "polygon": b}]
    plan = plan_change(current, [{"id": 1, "kind": MASK, "name": "A", "polygon": b}])  # type: ignore[arg-type]
    assert sorted((c["region_id"], c["change"]) for c in plan["held"]) == [
        (1, "shrink"), (2, "remove")]
    assert not oracle_hides_less([(0, 0, 2, 2), (5, 5, 7, 7)], masks_of(plan["immediate"]))
