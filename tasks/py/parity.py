"""Runs a cgvsni ENet export in PyTorch and prints the logits as JSON.

usage: python3 parity.py DIR   (DIR holds model.json/.bin and batch.json/.bin from tasks/parity.ts)
"""
import json
import sys
import torch
from enet_torch import ENet, load_cgvsni, read_bundle

d = sys.argv[1]
man, arrays = read_bundle(d + "/model.json")
cfg = man["config"]
_, batch = read_bundle(d + "/batch.json")
x = torch.from_numpy(batch["x"]).permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
model = ENet(cfg["crop"], cfg["conv0"], cfg["width"], tuple(cfg["trunk"]), cfg["fc"], cfg["classes"], cfg["dropout"])
load_cgvsni(model, arrays)
model.eval()
torch.set_num_threads(2)
with torch.no_grad():
    logits = model(x, flatten_hwc=True)
    features = model.features
print(json.dumps({
    "logits": logits.flatten().tolist(),
    "features_sum": features.sum(1).tolist(),
    "torch": torch.__version__,
    "params": sum(p.numel() for p in model.parameters()),
}))
