#!/usr/bin/python3
"""Paired step-time ratio of two runs of the same config (same seed, so step i is the same work in each):
the median over common steps of b/a, robust to a noisy moment in one run. Warm-up steps (<= 10) dropped.
   paired_step_ratio.py A/metrics.jsonl B/metrics.jsonl LABEL_A LABEL_B ROUND"""
import json
import statistics
import sys


def steps(path):
    return {r["step"]: r["step_s"] for r in map(json.loads, open(path)) if "step_s" in r and r["step"] > 10}


a, b = steps(sys.argv[1]), steps(sys.argv[2])
la, lb, rnd = sys.argv[3], sys.argv[4], sys.argv[5]
common = sorted(set(a) & set(b))
ratio = statistics.median(b[i] / a[i] for i in common)
print(f"round {rnd}: {la} {statistics.median(a.values()):.4f} s/step, {lb} {statistics.median(b.values()):.4f} s/step, "
      f"paired per-step ratio {ratio:.3f} ({len(common)} steps)")
# Where in the run the difference is: the paired ratio per block of 10 steps.
blocks = {}
for i in common:
    blocks.setdefault((i - 1) // 10, []).append(b[i] / a[i])
print("  by 10 steps: " + " ".join(f"{k * 10 + 1}-{k * 10 + 10}:{statistics.median(v):.2f}" for k, v in sorted(blocks.items())))
