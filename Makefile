# Sightline — the two commands that matter: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages as package:file-it-installs. The demo's virtual camera needs ffmpeg;
# the tests also drive chromium (browser tests), iproute2 (network namespaces),
# poppler-utils (PDF checks), the DejaVu fonts (PDF text; synthetic training lines), and
# for the fault campaign a private mosquitto and libfaketime (faketime, to step a clock).
DEMO_DEBS := ffmpeg:/usr/bin/ffmpeg
TEST_DEBS := $(DEMO_DEBS) chromium:/usr/bin/chromium iproute2:/usr/sbin/ip \
	poppler-utils:/usr/bin/pdftoppm fonts-dejavu-core:/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
	fonts-dejavu-extra:/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf \
	mosquitto:/usr/sbin/mosquitto faketime:/usr/bin/faketime

# Install the missing ones with apt-get when root, else say exactly what to install.
define ensure_debs
	@missing=""; for check in $(1); do \
		pkg=$${check%%:*}; path=$${check#*:}; [ -e "$$path" ] || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "Sightline needs these Debian packages:$$missing"; \
			echo "Install them with: sudo apt-get update && sudo apt-get install -y$$missing"; \
			exit 1; \
		fi; \
	fi
endef

.PHONY: demo test lint bench debs demo-debs venv venv-test opencv clean help train
.DEFAULT_GOAL := help

help:
	@echo "make demo   - run Sightline on this machine (SQLite, web UI on 127.0.0.1:8080)"
	@echo "make test   - install everything the tests need and run them"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - run the benchmarks (JSON on stdout)"
	@echo "make train-ocr - retrain the plate reader (inference/models/plate_reader.onnx)"
	@echo "make train-ocr-head - try the plate head on the general reader (not shipped; training/ocr/head.py)"
	@echo "make train-ocr-tail - try the fine-tuned neck and plate head on the general reader's backbone (not shipped; training/ocr/tail.py)"
	@echo "make train-detector - retrain the plate detector (inference/models/plate_detector*)"
	@echo "make train-windows - requantise the plate first stage's window detector (INT8)"
	@echo "make train  - retrain every shipped model (train-ocr, train-detector, train-windows)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Installed markers depend on pyproject.toml, so a changed dependency list reinstalls.
$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[demo]'
	@$(MAKE) --no-print-directory opencv
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,dev]'
	@$(MAKE) --no-print-directory opencv
	@touch $@ $(VENV)/.installed-base

venv: $(VENV)/.installed-base
venv-test: $(VENV)/.installed-test

# One OpenCV per environment: ipycam asks for opencv-python, rapidocr for
# opencv-python-headless, and both install the same `cv2` package over each other.
# We keep the headless build (no GUI libraries needed on a server) and reinstall it
# after removing the other, so that `cv2` is whole.
opencv:
	@if $(BIN)/pip show -q opencv-python >/dev/null 2>&1; then \
		$(BIN)/pip uninstall -q -y opencv-python; \
		$(BIN)/pip install -q --force-reinstall --no-deps \
			"opencv-python-headless==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("opencv-python-headless"))')"; \
	fi
	@$(BIN)/python -c "import cv2; cv2.imencode('.png', __import__('numpy').zeros((2, 2), 'uint8'))"

debs:
	$(call ensure_debs,$(TEST_DEBS))

demo-debs:
	$(call ensure_debs,$(DEMO_DEBS))

demo: $(VENV)/.installed-base demo-debs
	$(BIN)/sightline demo

# Two phases: every test but the real-time ones on one worker per CPU, four at most
# (TEST_WORKERS=0 runs them in this process), then the real-time ones alone, one at a time
# (tests/conftest.py, REAL_TIME).  Both phases always run; either one failing fails the
# target.  Exit status 5 is pytest's "no test selected" (PYTEST_ARGS naming only tests of
# one phase), which is not a failure.  The first phase's outcome is repeated at the very
# end (its summary of what failed, or the last lines where it stopped without one), so
# that a log cut to its tail, as CI shows it, still says what failed in either phase.
TEST_WORKERS ?= auto
FIRST_PHASE_LOG := .pytest_cache/first-phase.log
PHASE_FAILED = || { s=$$?; [ $$s -eq 5 ] || rc=$$s; }
test: $(VENV)/.installed-test debs
	@rc=0; first=0; set -o pipefail; mkdir -p $(dir $(FIRST_PHASE_LOG)); \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --maxprocesses=4 --dist loadgroup \
		-m "not real_time" $(PYTEST_ARGS) 2>&1 | tee $(FIRST_PHASE_LOG) $(PHASE_FAILED); \
	first=$$rc; \
	$(BIN)/python -m pytest -n 0 -m real_time $(PYTEST_ARGS) $(PHASE_FAILED); \
	echo "== the first phase (every test but the real-time ones), again: =="; \
	if [ $$first -eq 0 ]; then tail -n 1 $(FIRST_PHASE_LOG); \
	elif grep -q "short test summary info" $(FIRST_PHASE_LOG); then \
		sed -n '/short test summary info/,$$p' $(FIRST_PHASE_LOG); \
	else tail -n 40 $(FIRST_PHASE_LOG); fi; \
	exit $$rc

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(VENV)/.installed-test
	@for b in bench/bench_*.py; do echo "# $$b" >&2; $(BIN)/python $$b || exit 1; done

# Every shipped model, one after the other (each is a make/*.mk target).
train: train-ocr train-detector train-windows

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-data

-include make/*.mk
