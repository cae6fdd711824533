"""The start page's overview (issue 16): it puts together what the other areas know.

``status``: whether reads are being recorded and why not (program activation and the
published policy from ``compliance``, the cameras' health from ``operations``), the
cameras' state, and reads and hits counted over time. ``feed``: the newest reads and
today's hits with their plates, under a purpose window (462.5). It sits above the
areas it reads from and is used only by the front ends.
"""
