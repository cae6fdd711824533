# `make train-detector`: retrain the shipped plate detector (inference/models/plate_detector.onnx)
# and its INT8 twin (plate_detector_int8.xml/.bin, NNCF post-training quantisation).
#
# 1. training/detector/train.py draws 256 x 256 tiles at the network's scale from the eu/br
#    scenes (every 8th held out), us-plate-crops and synthetic plates composited onto real and
#    procedural backgrounds, and trains a CenterNet-style network on this CPU (one thread for
#    the network, one worker drawing tiles). A second, shorter phase goes on from the first at
#    a lower learning rate with half of the real eu/br plates covered by US-shaped ones
#    (--swap). Each phase ends after its steps or its minutes, whichever comes first, and its
#    learning-rate schedule follows that end. The shipped model's phases were capped at 62 and
#    35 minutes on a 2-core machine shared with other work, which gave 1,815 and 2,078 steps
#    (1-3 s a step); the defaults below are those steps, with minutes only as a backstop, so a
#    run takes about an hour on an idle 2-core machine. us-scenes-dev is never read.
# 2. training/detector/quantize.py calibrates INT8 on training scenes and synthetic frames.
# 3. Both models are copied into inference/models, then scored (held-out eu/br scenes and
#    us-scenes-dev, for the record only) and timed on a 720p frame.
DETECTOR_DIR ?= .train/detector
DETECTOR_STEPS ?= 1815
DETECTOR_MINUTES ?= 120
DETECTOR_SWAP_STEPS ?= 2078
DETECTOR_SWAP_MINUTES ?= 90
DETECTOR_SCENES ?= ../shared/data/us-scenes-dev
DETECTOR_DEBS := fonts-dejavu-core:/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf \
	fonts-dejavu-extra:/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf

.PHONY: train-detector
train-detector: $(VENV)/.installed-base
	$(call ensure_debs,$(DETECTOR_DEBS))
	$(BIN)/pip install -q -e '.[train]'
	@$(MAKE) --no-print-directory opencv
	$(BIN)/python training/detector/train.py --out $(DETECTOR_DIR) \
		--steps $(DETECTOR_STEPS) --minutes $(DETECTOR_MINUTES)
	$(BIN)/python training/detector/train.py --out $(DETECTOR_DIR) \
		--resume $(DETECTOR_DIR)/plate_detector.pt --swap 0.5 --lr 1e-3 --seed 2 \
		--steps $(DETECTOR_SWAP_STEPS) --minutes $(DETECTOR_SWAP_MINUTES)
	$(BIN)/python training/detector/quantize.py --model $(DETECTOR_DIR)/plate_detector.onnx \
		--out $(DETECTOR_DIR)/plate_detector_int8.xml
	cp $(DETECTOR_DIR)/plate_detector.onnx inference/models/plate_detector.onnx
	cp $(DETECTOR_DIR)/plate_detector_int8.xml inference/models/plate_detector_int8.xml
	cp $(DETECTOR_DIR)/plate_detector_int8.bin inference/models/plate_detector_int8.bin
	$(BIN)/python training/detector/evaluate.py --model inference/models/plate_detector.onnx \
		--model inference/models/plate_detector_int8.xml --held-out --scenes $(DETECTOR_SCENES)
