"""What both scene generators draw the same way: colours and where objects stand on the floor."""
import math


def col(r, lo=0.05, hi=0.9):
    """An RGB colour, each channel uniform in [lo, hi], as Sunflow and Tachyon write it."""
    return " ".join(f"{r.uniform(lo, hi):.3f}" for _ in range(3))


def place(r, placed):
    """A spot (x, y, size) on the floor that overlaps none of `placed` (30 tries; then the last
    try stands), appended to `placed`."""
    for _ in range(30):
        x, y, s = r.uniform(-2.8, 2.8), r.uniform(-2.8, 2.8), r.uniform(0.35, 1.0)
        if all(math.dist((x, y), (px, py)) > s + ps for px, py, ps in placed):
            break
    placed.append((x, y, s))
    return x, y, s
