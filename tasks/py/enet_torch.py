"""ENet and the flow in PyTorch, written from the architecture description (not the authors'
code), for the parity checks and the side-by-side benchmark. Layouts follow PyTorch (NCHW,
OIHW); `load_cgvsni` converts a cgvsni export (NHWC, HWIO, HWC-ordered flatten)."""

import json
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBn(nn.Module):
    def __init__(self, cin, cout, k, stride=1, relu=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x):
        x = self.bn(self.conv(x))
        return F.relu(x, inplace=True) if self.relu else x


class ENet(nn.Module):
    def __init__(self, crop=233, conv0=30, width=64, trunk=(64, 48, 64), fc=4096, classes=2, dropout=0.5):
        super().__init__()
        self.conv0 = nn.Conv2d(3, conv0, 5, bias=False)
        self.b1 = nn.Sequential(ConvBn(conv0, width, 3, relu=False), ConvBn(width, width, 3), ConvBn(width, width, 3))
        # the SRM kernels, one set per colour channel: a grouped convolution (groups = 3)
        self.srm = nn.Conv2d(3, 90, 5, bias=False, groups=3)
        self.srm.weight.requires_grad = False
        self.b2 = nn.Sequential(ConvBn(90, width, 3, relu=False), ConvBn(width, width, 3), ConvBn(width, width, 3))
        self.t1 = ConvBn(2 * width, trunk[0], 7, stride=2)
        self.t2 = ConvBn(trunk[0], trunk[1], 5)
        self.t3 = ConvBn(trunk[1], trunk[2], 3)
        s = crop
        for k, st in [(5, 1), (3, 1), (3, 1), (3, 1), (7, 2), (3, 2), (5, 1), (3, 2), (3, 1), (3, 2)]:
            s = (s - k) // st + 1
        self.side = s
        self.fc1 = nn.Linear(trunk[2] * s * s, fc)
        self.fc2 = nn.Linear(fc, fc)
        self.fc3 = nn.Linear(fc, classes)
        self.dropout = dropout

    def forward(self, x, flatten_hwc=False):
        a = self.b1(self.conv0(x))
        b = self.b2(self.srm(x))
        h = torch.cat([a, b], 1)
        h = F.max_pool2d(self.t1(h), 3, 2)
        h = F.max_pool2d(self.t2(h), 3, 2)
        h = F.max_pool2d(self.t3(h), 3, 2)
        if flatten_hwc:  # cgvsni flattens NHWC: (row, column, channel)
            h = h.permute(0, 2, 3, 1)
        h = h.reshape(h.shape[0], -1)
        h = F.dropout(F.relu(self.fc1(h)), self.dropout, self.training)
        self.features = F.relu(self.fc2(h))
        return self.fc3(F.dropout(self.features, self.dropout, self.training))


def read_bundle(path_json):
    """Reads a cgvsni tensor bundle (manifest + .bin) into {name: ndarray}."""
    man = json.load(open(path_json))
    w = man["weightsManifest"][0]
    raw = np.fromfile(path_json.rsplit("/", 1)[0] + "/" + w["paths"][0], dtype="<f4")
    out, off = {}, 0
    for e in w["weights"]:
        n = int(np.prod(e["shape"])) if e["shape"] else 1
        out[e["name"]] = raw[off:off + n].reshape(e["shape"])
        off += n
    return man, out


def load_cgvsni(model, arrays):
    """Copies cgvsni ENet weights into the PyTorch model, converting layouts."""
    conv = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(3, 2, 0, 1)))  # HWIO -> OIHW
    vec = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    with torch.no_grad():
        model.conv0.weight.copy_(conv(arrays["b1.conv0"]))
        srm = arrays["b2.srm"]  # [5, 5, 3, 30]: output channel c*30+m sees input channel c
        model.srm.weight.copy_(torch.from_numpy(np.ascontiguousarray(srm.transpose(2, 3, 0, 1).reshape(90, 1, 5, 5))))
        pairs = [(model.b1[i], f"b1.conv{i+1}", f"b1.bn{i+1}") for i in range(3)]
        pairs += [(model.b2[i], f"b2.conv{i+1}", f"b2.bn{i+1}") for i in range(3)]
        pairs += [(model.t1, "t.conv1", "t.bn1"), (model.t2, "t.conv2", "t.bn2"), (model.t3, "t.conv3", "t.bn3")]
        for m, c, b in pairs:
            m.conv.weight.copy_(conv(arrays[c]))
            m.bn.weight.copy_(vec(arrays[b + ".gamma"]))
            m.bn.bias.copy_(vec(arrays[b + ".beta"]))
            m.bn.running_mean.copy_(vec(arrays[b + ".mean"]))
            m.bn.running_var.copy_(vec(arrays[b + ".var"]))
        for i in (1, 2, 3):
            fc = getattr(model, f"fc{i}")
            fc.weight.copy_(vec(arrays[f"fc{i}.w"].T))
            fc.bias.copy_(vec(arrays[f"fc{i}.b"]))
