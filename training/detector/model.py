"""The plate detector network: a CenterNet-style single-scale head on a tiny backbone.

Input: a letterboxed BGR frame, float 0-255, (N, 3, 288, 512).  Output at stride 4,
(N, 5, 72, 128): channel 0 is the plate-centre heatmap (sigmoid, zero except at local
maxima of a 3 x 3 window, so the decoder only thresholds), channels 1-2 the plate
centre's offset from the cell's corner in cells (dx, dy), channels 3-4 the plate's
log width and log height in cells.  Box = ((x + dx) * 4, (y + dy) * 4, exp(lw) * 4,
exp(lh) * 4) in input pixels, centre and size.

The backbone is depthwise-separable convolutions (MobileNet-like) down to stride 32,
with a small top-down path (FPN-like) back to stride 4, so the head sees both the
fine texture of characters and the context of a car around them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

INPUT_W, INPUT_H = 512, 288
STRIDE = 4
CHANNELS = 5


def conv_bn(cin: int, cout: int, k: int = 3, s: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def dws(cin: int, cout: int, s: int = 1) -> nn.Sequential:
    """Depthwise 3 x 3 then pointwise 1 x 1."""
    return nn.Sequential(conv_bn(cin, cin, 3, s, groups=cin), conv_bn(cin, cout, 1))


class PlateNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 2)  # /2
        self.s4 = nn.Sequential(conv_bn(16, 32, 3, 2), dws(32, 32))  # /4
        self.s8 = nn.Sequential(dws(32, 64, 2), dws(64, 64))  # /8
        self.s16 = nn.Sequential(dws(64, 128, 2), dws(128, 128), dws(128, 128))  # /16
        self.s32 = nn.Sequential(dws(128, 192, 2), dws(192, 192), dws(192, 192))  # /32
        n = 64
        self.lat32 = conv_bn(192, n, 1)
        self.lat16 = conv_bn(128, n, 1)
        self.lat8 = conv_bn(64, n, 1)
        self.lat4 = conv_bn(32, 32, 1)
        self.fuse16 = dws(n, n)
        self.fuse8 = dws(n, n)
        self.top4 = conv_bn(n, 32, 1)
        self.fuse4 = dws(32, 32)
        self.head = nn.Conv2d(32, CHANNELS, 1)
        nn.init.constant_(self.head.bias, 0.0)
        with torch.no_grad():
            self.head.bias[0] = -2.19  # prior 0.1 on the heatmap, as CenterNet

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raw head output (heatmap logits, dx, dy, lw, lh) at stride 4; x normalised."""
        f4 = self.s4(self.stem(x))
        f8 = self.s8(f4)
        f16 = self.s16(f8)
        f32 = self.s32(f16)
        p = self.lat32(f32)
        p = self.fuse16(self.lat16(f16) + F.interpolate(p, scale_factor=2.0, mode="nearest"))
        p = self.fuse8(self.lat8(f8) + F.interpolate(p, scale_factor=2.0, mode="nearest"))
        p = F.interpolate(self.top4(p), scale_factor=2.0, mode="nearest")
        p = self.fuse4(self.lat4(f4) + p)
        out: torch.Tensor = self.head(p)
        return out


def normalise(x: torch.Tensor) -> torch.Tensor:
    """BGR 0-255 to roughly zero-centred unit range."""
    return x / 127.5 - 1.0


class Exported(nn.Module):
    """What ships: raw BGR in, decoded-ready maps out (peaks only on channel 0)."""

    def __init__(self, net: PlateNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raw = self.net(normalise(x))
        heat = torch.sigmoid(raw[:, :1])
        peaks = (heat == F.max_pool2d(heat, 3, 1, 1)).to(heat.dtype)
        return torch.cat([heat * peaks, raw[:, 1:]], dim=1)


def export_onnx(net: PlateNet, path: str) -> None:
    """ONNX with a dynamic batch axis (frames of several cameras in one inference)."""
    net.eval()
    wrapped = Exported(net).eval()
    dummy = torch.zeros(1, 3, INPUT_H, INPUT_W)
    torch.onnx.export(
        wrapped,
        (dummy,),
        path,
        input_names=["frames"],
        output_names=["maps"],
        dynamic_axes={"frames": {0: "batch"}, "maps": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
