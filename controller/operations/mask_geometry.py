"""What a privacy mask hides, and whether a change hides less (462.7.1(1)); pure functions.

The masker (``cameras.masking.rasterise``) fills a polygon as the union of its
fan triangles (vertex 0 with each following edge), so that a carelessly drawn,
self-intersecting polygon still hides everything it encloses. The area a set of
masks hides is therefore the union of all their fan triangles, and that is the
geometry compared here.

A change **hides less** ("removes, shrinks or retypes" a mask) when the area hidden
by the privacy masks after it does not cover the area hidden before it: some
part of the frame was masked and would not be. ``TOLERANCE`` only absorbs
floating-point noise (1e-9 of the frame, a five-hundredth of a 1080p pixel; the
editor's coordinates are rounded to 1e-5, so the smallest real edit uncovers
thousands of times more), so no series of tiny edits can wear a mask away.
Growing a mask, splitting it in two or merging it into a larger one hides no
less; deleting it, moving it away, pulling in an edge or turning it into a
recognition zone does, unless other masks still cover its area.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shapely import Polygon, union_all
from shapely.geometry.base import BaseGeometry

Point = Sequence[float]

TOLERANCE = 1e-9


def hidden_area(polygons: Iterable[Sequence[Point]]) -> BaseGeometry:
    """The part of the (unit) frame the masker blacks out for these polygons."""
    triangles = []
    for polygon in polygons:
        points = [(float(x), float(y)) for x, y in polygon]
        for i in range(1, len(points) - 1):
            triangle = Polygon([points[0], points[i], points[i + 1]])
            if triangle.area > 0:
                triangles.append(triangle)
    return union_all(triangles)


def uncovered(before: Iterable[Sequence[Point]], after: Iterable[Sequence[Point]]) -> float:
    """The area (share of the frame) hidden by ``before`` and not by ``after``."""
    return float(hidden_area(before).difference(hidden_area(after)).area)


def hides_less(before: Iterable[Sequence[Point]], after: Iterable[Sequence[Point]]) -> bool:
    """Whether masks ``after`` leave visible some area masks ``before`` hid (see above)."""
    return uncovered(before, after) > TOLERANCE
