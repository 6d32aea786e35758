"""PyTorch side of `deno task bench`: the same ENet and flow, same shapes, threads and steps.

usage: python3 bench_torch.py MODE STEPS [--channels-last]
MODE: enet-train | enet-infer | flow-train. Prints one JSON line."""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from enet_torch import ENet

torch.set_num_threads(2)
torch.manual_seed(0)
mode, steps = sys.argv[1], int(sys.argv[2])
cl = "--channels-last" in sys.argv


class Coupling(nn.Module):
    def __init__(self, nin, nout, hidden, depth):
        super().__init__()
        sizes = [nin] + [hidden] * (depth + 1) + [nout]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for i, l in enumerate(self.layers):
            x = l(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class Nice(nn.Module):
    def __init__(self, dim, couplings=4, hidden=1000, depth=4):
        super().__init__()
        h = dim // 2
        self.h = h
        self.c = nn.ModuleList(Coupling(h if k % 2 == 0 else dim - h, dim - h if k % 2 == 0 else h, hidden, depth) for k in range(couplings))

    def forward(self, x):
        a, b = x[:, :self.h], x[:, self.h:]
        for k, m in enumerate(self.c):
            if k % 2 == 0:
                b = b + m(a)
            else:
                a = a + m(b)
        return torch.cat([a, b], 1)


def timed(step, n_items):
    for _ in range(2):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    dt = time.perf_counter() - t
    return n_items * steps / dt


if mode.startswith("enet"):
    model = ENet()
    x = torch.randn(16, 3, 233, 233)
    y = torch.tensor([0, 1] * 8)
    if cl:
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    if mode == "enet-train":
        model.train()
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3, momentum=0.9)

        def step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        rate = timed(step, 16)
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
        rate = timed(step, 16)
else:
    flow = Nice(4096)
    opt = torch.optim.Adam(flow.parameters(), lr=1e-3)
    x = torch.randn(64, 4096)
    c = torch.randn(4096)

    def step():
        opt.zero_grad()
        d = ((flow(x) - c) ** 2).sum(1)
        loss = 1.0 + F.relu(d - 1.0).mean() / 0.05
        loss.backward()
        opt.step()
    rate = timed(step, 64)
print(json.dumps({"rate": rate, "torch": torch.__version__, "threads": torch.get_num_threads()}))
