#!/usr/bin/env python3
"""Summarises floods.sh's rss.csv as a Markdown table: per process, MiB idle, at the peak of
each flood and at the end of the rest or drain after it, and how far apart (largest over
smallest) the three mixed floods ended.

usage: summary.py rss.csv
"""
import csv
import sys
from collections import defaultdict

FLOODS = ["login", "upload", "read", "mixed-1", "mixed-2", "mixed-3"]
ENDS = ["after-login", "upload-drain", "after-read", "after-mixed-1", "after-mixed-2", "after-mixed-3"]
PROCESSES = ["gateway", "auth", "user", "media", "media-worker", "broker", "platform"]


def main(path):
    samples = defaultdict(lambda: defaultdict(list))  # process -> phase -> [KiB, ...]
    with open(path, newline="") as f:
        for _, phase, process, kib in csv.reader(f):
            samples[process][phase].append(int(kib))

    def mib(kib):
        return f"{kib / 1024:.1f}" if kib is not None else "–"

    def peak(phases, phase):
        return mib(max(phases[phase])) if phases[phase] else "–"

    def last(phases, phase):
        return mib(phases[phase][-1]) if phases[phase] else "–"

    print("| process | idle | login: peak / after | upload: peak / drained | read: peak / after "
          "| 3 mixed floods: peaks | their ends | ends apart |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for process in PROCESSES + sorted(set(samples) - set(PROCESSES)):
        phases = samples.get(process)
        if not phases:
            continue
        cells = [last(phases, "idle")]
        for flood, end in zip(FLOODS[:3], ENDS[:3]):
            cells.append(f"{peak(phases, flood)} / {last(phases, end)}")
        cells.append(", ".join(peak(phases, f) for f in FLOODS[3:]))
        cells.append(", ".join(last(phases, e) for e in ENDS[3:]))
        mixed = [phases[e][-1] for e in ENDS[3:] if phases[e]]
        cells.append(f"{(max(mixed) / min(mixed) - 1) * 100:.1f} %" if len(mixed) == 3 else "–")
        print(f"| {process} | " + " | ".join(cells) + " |")

if __name__ == "__main__":
    main(sys.argv[1])
