"""Camera to read: the pipeline supervisor, one pipeline per camera, the writer and its spool,
cabinet wiring, WebRTC live view.
"""
