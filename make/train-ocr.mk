# `make train-ocr`: retrain the shipped plate reader (inference/models/plate_reader.onnx).
#
# 1. The production detector cuts the registration line out of every image of
#    us-plate-crops (training/ocr/extract_lines.py, in the project's environment).
# 2. A CRNN learns from those lines and from synthetic lines drawn with the DejaVu
#    fonts (training/ocr/train.py). Scenes (us-scenes-dev) are never used.
# 3. The `all` model is copied into inference/models; `fold0`/`fold1` are the
#    cross-validation models whose held-out scores the training log prints.
#
# The shipped model was trained on a lent CUDA machine (H200, 16 cores drawing synthetic
# lines): 2,635 steps of 256 lines in 7 minutes, the three models in lockstep. The same
# steps on a 2-core CPU take many hours; TRAIN_MINUTES caps a run (the learning rate
# schedule follows whichever ends first, steps or minutes).
#
# A CPU-sized reader can be tried with `--size small` (a sixth of the multiply-adds): a
# `synthetic` model first (no real line, so the fold scores stay honest), then the fold
# models from it with `--init`.  On a 2-core CPU, 36 minutes of the synthetic model (835 steps
# of 256 lines) read 20.7% of the real lines, and 12 more minutes on each fold (164 steps of
# 128 synthetic + 128 real lines) 72.9% of the other fold, against 84.8% for the shipped
# reader: not enough to replace it.
CROPS ?= ../shared/data/us-plate-crops
TRAIN_DIR ?= .train
TRAIN_STEPS ?= 2635
TRAIN_MINUTES ?= 0
# fold0,fold1 are only for the cross-validated score; TRAIN_MODELS=all trains the shipped one alone.
TRAIN_MODELS ?= fold0,fold1,all
TRAIN_DEBS := fonts-dejavu-core:/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf \
	fonts-dejavu-extra:/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf

.PHONY: train-ocr
train-ocr: $(VENV)/.installed-base
	$(call ensure_debs,$(TRAIN_DEBS))
	$(BIN)/pip install -q -e '.[train]'
	@$(MAKE) --no-print-directory opencv
	$(BIN)/python training/ocr/extract_lines.py --crops $(CROPS) --out $(TRAIN_DIR)/real.npz
	$(BIN)/python training/ocr/train.py --real $(TRAIN_DIR)/real.npz --out $(TRAIN_DIR)/out \
		--steps $(TRAIN_STEPS) --minutes $(TRAIN_MINUTES) --models $(TRAIN_MODELS)
	cp $(TRAIN_DIR)/out/plate_reader_all.onnx inference/models/plate_reader.onnx
	cp $(TRAIN_DIR)/out/plate_reader_all.dict.txt inference/models/plate_reader.dict.txt
