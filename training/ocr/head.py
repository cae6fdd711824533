"""Train a plate reader on the general reader's network: a plate head of its own.

The general reader (rapidocr's PP-OCRv6 small, ``inference.pipeline.READER_FILE``) learnt
from millions of real text lines.  Its last layer maps 120 features a step to 18,710
symbols; this reader is the same network with that layer replaced by a head trained
here, over the CTC blank, A-Z, 0-9 and a space, everything before it frozen.  Since
nothing before the head learns, each line's features are computed once, with OpenVINO:
the production detector's line crops of us-plate-crops (``extract_lines.py``), each
also in ``--copies`` jittered copies, and ``--synthetic`` rendered lines
(``render.py``); the head then learns on them in minutes on a CPU.  Scene images
(us-scenes-dev) are never used.

Three heads learn from the same features: ``fold0`` from fold 0's crops and
``fold1`` from fold 1's (each scored on the other fold's original strips: the
out-of-fold figure, measured as ``train.py`` measures its CRNN's), ``all`` from both.
The run also prints, on the same held-out strips, what the general reader's own last
layer reads when decoded to A-Z0-9: the reference measured in the same run.  The
held-out scores are printed, never used to pick a head or a setting.

The ``all`` head is exported to ONNX, grafted onto the network in place of its last
layer and saved as OpenVINO IR with 16-bit weights: ``OUT/plate_reader.xml`` and
``.bin`` (6 MB), with ``plate_reader.dict.txt`` for ``inference.openvino.alphabet``
(and the fold heads as ``plate_reader_fold0.xml`` and ``plate_reader_fold1.xml``).
It is not the shipped plate reader (``make/train-ocr.mk`` says why); it can be tried
with the setting ``inference.plate_reader_model: OUT/plate_reader.xml``.

    python training/ocr/head.py --real .train/real.npz --out .train/head [--head lstm]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import openvino as ov
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from inference.openvino import alphabet, core, read_model, resolve_model
from inference.pipeline import READER_FILE
from inference.reader import batch_tensor
from training.ocr.render import sample
from training.ocr.train import ALPHABET, jitter_real

# The general reader's features: the input of its last layer, (N, T, FEATURES).
FEATURE_TENSOR = "p2o.pd_op.transpose.8.0"
FEATURES = 120
CLASSES = len(ALPHABET) + 2  # the blank, A-Z0-9, a space (as inference.openvino.alphabet)
MODELS = {"fold0": (0,), "fold1": (1,), "all": (0, 1)}


def tensor_output(network: ov.Model, name: str, path: Path) -> ov.Output:
    """The network's tensor named ``name``; a clear error if this reader has none."""
    for op in network.get_ordered_ops():
        for out in op.outputs():
            if name in out.get_names():
                return out
    raise SystemExit(f"{path}: no tensor {name}; this script knows rapidocr's PP-OCRv6 "
                     f"small reader")


def held_out_rows(real: dict[str, np.ndarray], fold: int) -> list[int]:
    """The original (not variant) strips of a fold: every third row of extract_lines'
    file."""
    return [i for i in range(0, len(real["labels"]), 3) if real["folds"][i] == fold]


class Featurizer:
    """The general reader cut at its features, compiled once in f32."""

    def __init__(self, path: Path) -> None:
        network = read_model(path)
        # The general reader's alphabet: the columns its last layer gives.
        self.symbols = alphabet(path, network)
        network.add_outputs([tensor_output(network, FEATURE_TENSOR, path)])
        compiled = core().compile_model(network, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        self.request = compiled.create_infer_request()
        result = network.get_results()[0].input_value(0).get_node()
        self.weight, self.bias = _last_layer(result)

    def __call__(self, strip: np.ndarray) -> np.ndarray:
        """(T, FEATURES) features of one BGR strip, as the production reader batches it."""
        self.request.infer({0: batch_tensor([strip])})
        return np.array(self.request.get_output_tensor(1).data[0], dtype=np.float32)


def _last_layer(softmax: ov.Node) -> tuple[np.ndarray, np.ndarray]:
    """The general reader's last layer (weight (FEATURES, C), bias (C,)) behind its
    softmax: MatMul then Add of constants (checked)."""
    add = softmax.input_value(0).get_node()
    while add.get_type_name() != "Add":
        add = add.input_value(0).get_node()
    matmul = add.input_value(0).get_node()
    constants = [matmul.input_value(1).get_node(), add.input_value(1).get_node()]
    if matmul.get_type_name() != "MatMul" or any(
            c.get_type_name() != "Constant" for c in constants):
        raise SystemExit("the general reader's last layer is not MatMul + Add of constants")
    weight, bias = (np.asarray(c.get_data(), dtype=np.float32) for c in constants)
    return weight, bias


class Head(nn.Module):
    """Over each step's features: ``linear``, one linear layer (started from the general
    reader's own weights for the blank and A-Z0-9); ``lstm``, a bidirectional LSTM of
    ``hidden`` a way, then a linear layer."""

    def __init__(self, kind: str, hidden: int, weight: np.ndarray, bias: np.ndarray) -> None:
        super().__init__()
        self.rnn = nn.LSTM(FEATURES, hidden, bidirectional=True, batch_first=True) \
            if kind == "lstm" else None
        self.fc = nn.Linear(2 * hidden if self.rnn else FEATURES, CLASSES)
        if self.rnn is None:
            with torch.no_grad():
                self.fc.weight.copy_(torch.from_numpy(weight.T))
                self.fc.bias.copy_(torch.from_numpy(bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, T, FEATURES) -> (N, T, CLASSES) log-probabilities."""
        if self.rnn is not None:
            x, _ = self.rnn(x)
        return torch.log_softmax(self.fc(x), dim=-1)


class Exported(nn.Module):
    """The head as the runtime runs it: probabilities, not their logarithms."""

    def __init__(self, head: Head) -> None:
        super().__init__()
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(self.head(x))


def greedy(logp: np.ndarray) -> str:
    """Greedy CTC decoding of one (T, CLASSES) sequence over A-Z0-9."""
    out: list[str] = []
    previous = 0
    for k in logp.argmax(axis=-1):
        if 0 < k <= len(ALPHABET) and k != previous:
            out.append(ALPHABET[k - 1])
        previous = int(k)
    return "".join(out)


def padded(feats: list[np.ndarray], rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows' features right-padded with zeros into one batch, and their lengths."""
    longest = max(feats[i].shape[0] for i in rows)
    x = np.zeros((len(rows), longest, FEATURES), dtype=np.float32)
    for j, i in enumerate(rows):
        x[j, : feats[i].shape[0]] = feats[i]
    return torch.from_numpy(x), torch.tensor([feats[i].shape[0] for i in rows])


def train(feats: list[np.ndarray], labels: list[str], rows: np.ndarray,
          args: argparse.Namespace, seed: int, start: tuple[np.ndarray, np.ndarray]) -> Head:
    """A head learnt from ``rows`` of the features (CTC, AdamW, one-cycle schedule)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    head = Head(args.head, args.hidden, *start)
    batches = -(-len(rows) // args.batch)
    opt = torch.optim.AdamW(head.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr,
                                                   total_steps=args.epochs * batches)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    for _ in range(args.epochs):
        order = rng.permutation(rows)
        for b in range(batches):
            part = order[b * args.batch : (b + 1) * args.batch]
            x, lengths = padded(feats, part)
            targets = [ALPHABET.index(c) + 1 for i in part for c in labels[i]]
            loss = ctc(head(x).transpose(0, 1), torch.tensor(targets), lengths,
                       torch.tensor([len(labels[i]) for i in part]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
    return head.eval()


def exact(reads: list[str], truth: list[str]) -> float:
    return sum(r == t for r, t in zip(reads, truth, strict=True)) / max(1, len(truth))


def graft(reader: Path, module: nn.Module, dummy: torch.Tensor, cut: str, out: Path,
          name: str) -> Path:
    """The general reader with everything after its tensor ``cut`` replaced by
    ``module`` (taking that tensor, giving probabilities), saved as IR ``OUT/NAME.xml``
    (16-bit weights) with its plate alphabet."""
    onnx_path = out / f"{name}_tail.onnx"
    axes = {0: "n", dummy.dim() - 1: "t"}
    torch.onnx.export(module, (dummy,), str(onnx_path), input_names=["cut"],
                      output_names=["probs"], opset_version=17, dynamo=False,
                      dynamic_axes={"cut": axes, "probs": {0: "n", 1: "t"}})
    network = core().read_model(str(reader))
    source = tensor_output(network, cut, reader)
    grafted = core().read_model(str(onnx_path))
    for target in grafted.get_parameters()[0].output(0).get_target_inputs():
        target.replace_source_output(source)
    network.get_results()[0].input(0).replace_source_output(
        grafted.get_results()[0].input_value(0))
    network.validate_nodes_and_infer_types()
    # The general reader's own alphabet goes with its last layer.
    network.set_rt_info("", ["framework", "character"])
    xml = out / f"{name}.xml"
    ov.save_model(network, str(xml), compress_to_fp16=True)
    xml.with_suffix(".dict.txt").write_text("\n".join(ALPHABET) + "\n")
    return xml


def features(featurize: Featurizer, real: dict[str, np.ndarray], args: argparse.Namespace,
             ) -> tuple[list[np.ndarray], list[str], list[int]]:
    """Every strip's features, label and fold: each real strip then its ``--copies``
    jittered copies (fold of its crop), then ``--synthetic`` rendered lines (fold -1)."""
    rng = np.random.default_rng(args.seed)
    feats: list[np.ndarray] = []
    labels: list[str] = []
    folds: list[int] = []
    for i in range(len(real["labels"])):
        strip = real["images"][i, :, : real["widths"][i]]
        for copy in [strip, *(jitter_real(strip, rng) for _ in range(args.copies))]:
            feats.append(featurize(copy))
            labels.append(str(real["labels"][i]))
            folds.append(int(real["folds"][i]))
    for seed in range(args.synthetic):
        strip, text = sample(args.seed * 1_000_003 + seed)
        feats.append(featurize(strip))
        labels.append(text)
        folds.append(-1)  # every head learns from the synthetic lines
    return feats, labels, folds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--real", type=Path, required=True, help="extract_lines.py output")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--copies", type=int, default=8, help="jittered copies of each strip")
    parser.add_argument("--synthetic", type=int, default=2000, help="rendered lines")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--head", choices=("linear", "lstm"), default="lstm")
    parser.add_argument("--hidden", type=int, default=96, help="LSTM width each way")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=462)
    args = parser.parse_args(argv)

    started = time.time()
    reader = resolve_model(None, READER_FILE)
    featurize = Featurizer(reader)
    real = dict(np.load(args.real))
    cache = args.out / f"features-{args.copies}-{args.synthetic}-{args.seed}.pkl"
    if cache.is_file():  # the same lines, copies and seed: the same features
        feats, labels, folds = pickle.loads(cache.read_bytes())
    else:
        feats, labels, folds = features(featurize, real, args)
        args.out.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps((feats, labels, folds)))
    fold_of = np.array(folds)
    print(json.dumps({"features": len(feats), "seconds": round(time.time() - started, 1)}),
          flush=True)
    # Held out: the original strips (extract_lines' every third row) of the other fold.
    held = {f: [i * (args.copies + 1) for i in held_out_rows(real, f)] for f in (0, 1)}
    symbols = featurize.symbols
    columns = [0, *(symbols.index(c) for c in ALPHABET), symbols.index(" ")]
    start = featurize.weight[:, columns], featurize.bias[columns]
    report: dict[str, object] = {}
    own = {f: [greedy((feats[i] @ featurize.weight + featurize.bias)[:, columns])
               for i in held[f]] for f in (0, 1)}
    truth = {f: [labels[i] for i in held[f]] for f in (0, 1)}
    report["general_reader_own_layer"] = _scores(own, truth)
    heads: dict[str, Head] = {}
    for name, learn in MODELS.items():
        rows = np.flatnonzero(np.isin(fold_of, [*learn, -1]))
        heads[name] = train(feats, labels, rows, args, args.seed + len(heads), start)
    with torch.no_grad():
        reads = {f: [greedy(heads[f"fold{1 - f}"](torch.from_numpy(feats[i])[None])[0].numpy())
                     for i in held[f]] for f in (0, 1)}
    report["plate_head"] = _scores(reads, truth)
    report["seconds"] = round(time.time() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    # The fold heads too: the pipeline's own out-of-fold score on the crops reads each
    # fold's crops with the reader grafted from the other fold's head.
    report["models"] = [str(graft(reader, Exported(head), torch.zeros(1, 20, FEATURES),
                                  FEATURE_TENSOR, args.out,
                                  "plate_reader" if name == "all" else f"plate_reader_{name}"))
                        for name, head in heads.items()]
    print(json.dumps(report), flush=True)
    return 0


def _scores(reads: dict[int, list[str]], truth: dict[int, list[str]]) -> dict[str, object]:
    """Exact reads on each held-out fold and out of fold (all held-out strips)."""
    every = [r for f in (0, 1) for r in reads[f]]
    return {"fold0_exact": round(exact(reads[0], truth[0]), 4),
            "fold1_exact": round(exact(reads[1], truth[1]), 4),
            "out_of_fold_exact": round(exact(every, [t for f in (0, 1) for t in truth[f]]), 4),
            "strips": len(every)}


if __name__ == "__main__":
    sys.exit(main())
