"""What the generators of files from the service folders share (deploy/compose.py,
k8s/services.py): finding the services, and the command line that writes their outputs or,
with --check, names the stale ones.

A generator imports it by path (it is not a package):

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / ".ci"))
    import generated

Standard library only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent


def service_folders() -> list[Path]:
    """Every services/NAME with a manifest (service.toml), in name order: a service is found
    by its folder, never listed."""
    return sorted(p.parent for p in (ROOT / "services").glob("*/service.toml"))


def main(outputs: Callable[[], Iterable[tuple[Path, str]]], usage: str, regenerate: str) -> int:
    """A generator's command line. No argument writes each output whose text changed;
    `--check` writes nothing and exits 1 naming each stale one, with `regenerate` (how to
    bring it up to date); anything else prints `usage` and exits 2."""
    check = sys.argv[1:] == ["--check"]
    if sys.argv[1:] not in ([], ["--check"]):
        print(usage, file=sys.stderr)
        return 2
    stale = []
    for path, text in outputs():
        current = path.read_text() if path.exists() else ""
        if current == text:
            continue
        if check:
            stale.append(path.relative_to(ROOT))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    for path in stale:
        print(f"{path} is stale: run {regenerate}", file=sys.stderr)
    return 1 if stale else 0
