"""The demo: its world (administrator, site, camera, hotlist), its virtual camera and its
dispatch receiver.
"""
