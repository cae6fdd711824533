# `make train-windows`: requantise the plate first stage's window detector
# (inference/models/text_window_int8.xml/.bin): PP-OCR's text detector, as the rapidocr
# wheel ships it, in INT8 with NNCF, calibrated on the windows the plate first stage
# cuts around the plates of the eu/br training scenes and of synthetic frames
# (training/windows/quantize.py; us-scenes-dev is never read). A minute on 2 cores; the
# same inputs give the same files, byte for byte.
WINDOWS_DIR ?= .train/windows

.PHONY: train-windows
train-windows: $(VENV)/.installed-base
	$(BIN)/pip install -q -e '.[train]'
	@$(MAKE) --no-print-directory opencv
	$(BIN)/python training/windows/quantize.py --out $(WINDOWS_DIR)/text_window_int8.xml
	cp $(WINDOWS_DIR)/text_window_int8.xml inference/models/text_window_int8.xml
	cp $(WINDOWS_DIR)/text_window_int8.bin inference/models/text_window_int8.bin
