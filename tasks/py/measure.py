"""Runs a command and reports its peak resident memory (getrusage of the child), so cgvsni and
PyTorch are measured the same way. Prints the command's last stdout line (JSON) with
"peak_rss_mb" and "cpu" added.

usage: python3 measure.py COMMAND [ARGS...]"""
import json
import resource
import subprocess
import sys

p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
if p.returncode != 0:
    sys.stderr.write(p.stderr[-2000:])
    sys.exit(p.returncode)
out = json.loads(p.stdout.strip().splitlines()[-1])
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
cpu = "?"
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
out["cpu"] = cpu
print(json.dumps(out))
