#!/usr/bin/env python3
"""Prints the renders cgbench's near-blank rule drops (grey-level std < 12 or mean absolute
gradient < 0.9: an empty sky, a camera facing a wall). Usage: near_blank.py PNG..."""
import sys
import numpy as np
from PIL import Image

for f in sys.argv[1:]:
    g = np.asarray(Image.open(f).convert("L"), dtype=np.float64)
    grad = (np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean()) / 2
    if g.std() < 12 or grad < 0.9:
        print(f)
