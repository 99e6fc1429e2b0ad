"""Prints, from a schemathesis NDJSON report, how many test cases each operation got in each
phase and the statuses the gateway answered, so a run's depth is visible in the CI log.

    python3 summary.py target/contract/ndjson-*.ndjson
"""

import collections
import json
import sys


def main(path: str) -> None:
    cases = collections.Counter()
    statuses = collections.Counter()
    with open(path, encoding="utf-8") as report:
        for line in report:
            event = json.loads(line).get("ScenarioFinished")
            if not event:
                continue
            recorder = event["recorder"]
            cases[(recorder.get("label"), event["phase"])] += len(recorder.get("cases", {}))
            for interaction in recorder.get("interactions", {}).values():
                response = interaction.get("response") or {}
                statuses[response.get("status_code")] += 1
    phases = ["coverage", "fuzzing", "stateful"]
    operations = sorted({label for label, _ in cases})
    width = max(len(label) for label in operations)
    print(f"{'operation':<{width}}  " + "  ".join(f"{p:>8}" for p in phases))
    for label in operations:
        print(f"{label:<{width}}  " + "  ".join(f"{cases[(label, p)]:>8}" for p in phases))
    answered = ", ".join(f"{status}×{n}" for status, n in sorted(statuses.items()))
    print(f"statuses answered: {answered}")


if __name__ == "__main__":
    main(sys.argv[1])
