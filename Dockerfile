# Sightline — multi-stage: build wheels, then a slim runtime as a non-root user.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY controller ./controller
COPY cameras ./cameras
COPY inference ./inference
COPY web ./web
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
# ffmpeg libraries come with the av wheel; libgomp is needed by OpenVINO's CPU plugin.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/sightline --create-home sightline
COPY --from=build /wheels /wheels
# One OpenCV distribution only (see Makefile: opencv).
RUN pip install --no-cache-dir /wheels/*.whl \
 && rm -rf /wheels \
 && python -c "import cv2"
COPY config /etc/sightline
ENV SIGHTLINE_CONFIG=/etc/sightline/sightline.yaml \
    SIGHTLINE_DATA_DIR=/var/lib/sightline \
    PYTHONUNBUFFERED=1
USER sightline
WORKDIR /var/lib/sightline
VOLUME ["/var/lib/sightline"]
EXPOSE 8080
# The default config binds 127.0.0.1; in a container, bind all interfaces with a config
# whose web.host is 0.0.0.0 (mounted over /etc/sightline/sightline.yaml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
CMD ["sightline", "run"]
