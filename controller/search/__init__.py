"""Searching reads and opening them (462.5, 462.7): the use cases behind every search screen.

``queries`` validates and runs exact, partial and canvass searches with their
purpose, case number and attestation; ``views`` opens one read, its images and
the thumbnails a search returned. Each function takes the ``Caller``, checks role
and training, and writes the audit record itself.
"""

from controller.store.records import CameraChoice, DescribedRead

# The rows the search screens show, for the web (which does not import the store).
__all__ = ["CameraChoice", "DescribedRead"]
