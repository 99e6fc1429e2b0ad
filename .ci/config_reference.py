#!/usr/bin/env python3
"""Generates docs/configuration.md from the settings modules, and checks it is current.

Usage (from anywhere in the repository; `just config-reference` runs the first two lines):

    cargo run -q -p platform-devstack --bin env-vars > target/env-vars.json
    python3 .ci/config_reference.py target/env-vars.json           # writes docs/configuration.md
    python3 .ci/config_reference.py target/env-vars.json --check   # CI: nothing is written

env-vars.json says, for each service, the environment variables its settings read and the
ones it requires (found by running the real settings code; see tools/devstack/src/bin/env-vars.rs).
The documentation is the `//!` tables of the settings modules, in this format:

    //! | variable | default | meaning |
    //! |---|---|---|
    //! | `GRPC_PORT` | `50051` | gRPC listener |
    //! | `AUTH_SIGNING_KEY` / `AUTH_SIGNING_KEY_FILE` | generated (dev only) | ... |

A row documents one variable, or several separated by ` / `. The tables are those of each
service's `services/<service>/src/config.rs` and of its parts' `src/<part>/config.rs` (the
service name in env-vars.json is the directory's name) and those found in any `.rs` file of a shared library, `libs/<library>/src/`
(except the libraries no service runs: SKIPPED_LIBRARIES). This script checks, and exits 1 on
any finding (writing nothing):

1. Every table row can be read, and no variable is documented twice in one service or in two
   libraries (the reference would not know which row to believe).
2. Every variable a service reads is documented, in the service's own table or in a library's.
   The service's own row wins over a library's (it may give the service's own default).
3. Every row of a service's own table names variables the service reads (nothing stale, no
   typo), and says `required` in its default column exactly when env-vars.json says the
   service requires that variable.
4. The default it documents for `GRPC_PORT`, `HTTP_PORT` and `OPS_PORT` is the port its
   manifest (services/<service>/service.toml) gives.

Then it renders docs/configuration.md: a section of the variables every service reads alike,
then one section per service (sorted by name) listing every other variable it reads, the
required ones marked, with the module documenting each. `--check` compares that with the file
on disk instead of writing it.

Exit status: 0 when everything is documented and the file is current (or was written), 1 on
a finding above or a stale file, 2 when the check itself cannot run.
Needs Python 3.11 (tomllib); standard library only.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES_DIR = ROOT / "services"
LIBS_DIR = ROOT / "libs"
OUTPUT = ROOT / "docs" / "configuration.md"
REGENERATE = "just config-reference"

# Libraries under libs/ whose tables do not document a service: each needs its reason.
SKIPPED_LIBRARIES: dict[str, str] = {
    "testkit": "test helpers, not linked into a service's binary",
}

HEADER = ("variable", "default", "meaning")
VARIABLE = re.compile(r"`([A-Z][A-Z0-9_]*)`")
# Rustdoc links, meaningless outside rustdoc: `[text](crate::path)` and `[`Item`]`.
RUSTDOC_PATH_LINK = re.compile(r"\[([^\]]+)\]\((?:crate|self|super)::[^)]*\)")
RUSTDOC_SHORT_LINK = re.compile(r"\[(`[^`\]]+`)\](?![(\[])")


class CheckError(Exception):
    """The check cannot run (a missing file, an unreadable env-vars.json), as opposed to drift."""


@dataclass(frozen=True)
class Row:
    """One documentation row: the variables it names and what it says of them."""

    names: tuple[str, ...]
    default: str
    meaning: str
    # The module documenting it as the reference shows it, e.g. `libs/postgres`.
    source: str
    # The file it is written in, relative to the repository, and its line.
    path: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def says_required(self) -> bool:
        return self.default.strip().strip("*").lower().startswith("required")


def load_env_vars(path: Path) -> dict[str, tuple[list[str], set[str]]]:
    """Service -> (variables read, variables required), from the env-vars JSON."""
    try:
        data = json.loads(path.read_text())
    except OSError as e:
        raise CheckError(f"cannot read {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise CheckError(f"{path} is not JSON: {e}") from e
    try:
        return {
            name: (sorted(set(s["reads"])), set(s["required"])) for name, s in data.items()
        }
    except (AttributeError, KeyError, TypeError) as e:
        raise CheckError(
            f"{path} is not {{service: {{reads: [...], required: [...]}}}}: {e!r}"
        ) from e


def split_cells(line: str) -> list[str]:
    """The cells of a markdown table line; `|` inside backticks or escaped does not split."""
    cells, cell, in_code, i = [], "", False, 0
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] == "|":
            cell += "\\|"
            i += 2
            continue
        if c == "`":
            in_code = not in_code
        if c == "|" and not in_code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += c
        i += 1
    if cell.strip():
        cells.append(cell.strip())
    return cells


def parse_names(cell: str) -> tuple[str, ...] | None:
    """`A` or `A` / `B`: the names; None when the cell is anything else."""
    names = []
    for part in cell.split(" / "):
        match = VARIABLE.fullmatch(part.strip())
        if not match:
            return None
        names.append(match.group(1))
    return tuple(names)


def parse_tables(path: Path, source: str, problems: list[str]) -> list[Row]:
    """The rows of every `| variable | default | meaning |` table in `path`'s `//!` comments."""
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise CheckError(f"cannot read {path}: {e}") from e
    relative = str(path.relative_to(ROOT))
    docs: list[tuple[int, str | None]] = []  # (line number, text of a `//!` line or None)
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("//!"):
            text = stripped[3:]
            docs.append((number, text[1:] if text.startswith(" ") else text))
        else:
            docs.append((number, None))

    rows: list[Row] = []
    i = 0
    while i < len(docs):
        number, text = docs[i]
        i += 1
        if text is None or not text.lstrip().startswith("|"):
            continue
        if tuple(c.lower() for c in split_cells(text)) != HEADER:
            continue
        separator = docs[i][1] if i < len(docs) else None
        if separator is None or not re.fullmatch(r"\s*\|(\s*:?-+:?\s*\|){3}\s*", separator):
            problems.append(f"{relative}:{number}: a table header without `|---|---|---|` under it")
            continue
        i += 1
        while i < len(docs) and docs[i][1] is not None and docs[i][1].lstrip().startswith("|"):
            number, text = docs[i]
            i += 1
            cells = split_cells(text)
            if len(cells) != 3:
                problems.append(
                    f"{relative}:{number}: a row of {len(cells)} cells, not 3"
                    " (variable, default, meaning)"
                )
                continue
            names = parse_names(cells[0])
            if names is None:
                problems.append(
                    f"{relative}:{number}: cannot read the variable cell {cells[0]!r}:"
                    " write one `NAME`, or several separated by ` / `"
                )
                continue
            rows.append(Row(names, cells[1], cells[2], source, relative, number))
    return rows


def index(rows: list[Row], problems: list[str]) -> dict[str, Row]:
    """Variable -> its row, reporting a variable documented twice."""
    by_name: dict[str, Row] = {}
    for row in rows:
        for name in row.names:
            if name in by_name:
                problems.append(
                    f"{name} is documented twice, at {by_name[name].where} and {row.where}:"
                    " keep one row"
                )
            else:
                by_name[name] = row
    return by_name


def library_rows(problems: list[str]) -> dict[str, Row]:
    """Variable -> the library row documenting it, from every library's sources."""
    if not LIBS_DIR.is_dir():
        raise CheckError(f"{LIBS_DIR} does not exist")
    rows: list[Row] = []
    for library in sorted(p for p in LIBS_DIR.iterdir() if (p / "src").is_dir()):
        if library.name in SKIPPED_LIBRARIES:
            continue
        for path in sorted((library / "src").rglob("*.rs")):
            rows += parse_tables(path, f"libs/{library.name}", problems)
    return index(rows, problems)


PORT_NAMES = {"http": "HTTP", "grpc": "gRPC", "ops": "ops"}


def manifest_ports(service: str) -> dict[str, int]:
    """The service's ports, from its manifest (services/NAME/service.toml)."""
    path = SERVICES_DIR / service / "service.toml"
    if not path.is_file():
        raise CheckError(f"{path.relative_to(ROOT)} does not exist: every service has a manifest")
    return tomllib.loads(path.read_text()).get("ports", {})


def ports_line(service: str) -> str:
    """The reference's sentence of the service's ports."""
    path = SERVICES_DIR / service / "service.toml"
    ports, names = manifest_ports(service), PORT_NAMES
    listed = ", ".join(f"{names[k]} {ports[k]}" for k in names if k in ports)
    relative = path.relative_to(ROOT)
    return f"Listens on {listed} by default (its manifest: [`{relative}`](../{relative}))."


def config_path(service: str) -> Path:
    return SERVICES_DIR / service / "src" / "config.rs"


def service_rows(service: str, problems: list[str]) -> dict[str, Row]:
    """Variable -> the row of the service's own table documenting it."""
    path = config_path(service)
    relative = path.relative_to(ROOT)
    if not path.is_file():
        problems.append(
            f"{service}: {relative} does not exist: every service documents its settings there"
        )
        return {}
    found: list[str] = []
    rows = parse_tables(path, str(relative), found)
    # A part of the service that is removed whole (the gateway's `media/`) keeps its own.
    for part in sorted(path.parent.glob("*/config.rs")):
        rows += parse_tables(part, str(part.relative_to(ROOT)), found)
    problems += found
    if not rows and not found:
        problems.append(f"{service}: {relative} has no `| variable | default | meaning |` table")
    return index(rows, problems)


def check_service(
    service: str,
    reads: list[str],
    required: set[str],
    own: dict[str, Row],
    libraries: dict[str, Row],
) -> list[str]:
    """The findings of one service: undocumented variables, stale or misleading own rows."""
    findings = []
    table = config_path(service).relative_to(ROOT)
    for name in reads:
        if name not in own and name not in libraries:
            findings.append(
                f"{service}: {name} is read but documented nowhere (add it to {table}'s table)"
            )
    for name, row in own.items():
        if name not in reads:
            findings.append(
                f"{service}: {row.where} documents {name}, which {service} does not read"
                " (remove the row or fix the name)"
            )
    for kind, port in manifest_ports(service).items():
        row = own.get(f"{kind.upper()}_PORT")
        if row is not None and row.default.strip("`") != str(port):
            findings.append(
                f"{service}: {row.where} gives {kind.upper()}_PORT the default {row.default},"
                f" but services/{service}/service.toml says {kind} = {port}"
            )
    for row in dict.fromkeys(own.values()):
        is_required = any(name in required for name in row.names)
        if row.says_required and not is_required:
            findings.append(
                f"{service}: {row.where} says {' / '.join(row.names)} is required,"
                f" but {service} starts without it (give its default)"
            )
        elif is_required and not row.says_required:
            findings.append(
                f"{service}: {row.where} gives {' / '.join(row.names)} the default"
                f" {row.default!r}, but {service} does not start without it (say `required`)"
            )
    return findings


def plain(text: str) -> str:
    """Markdown of a rustdoc comment, its intra-doc links reduced to their text."""
    return RUSTDOC_SHORT_LINK.sub(r"\1", RUSTDOC_PATH_LINK.sub(r"\1", text))


def table(entries: list[tuple[Row, list[str]]], required: set[str]) -> list[str]:
    """A `| variable | default | meaning | source |` table of rows, each with the names shown."""
    lines = ["| variable | default | meaning | source |", "|---|---|---|---|"]
    for row, names in entries:
        variables = " / ".join(f"`{name}`" for name in names)
        if any(name in required for name in names):
            variables += " **required**"
        source = f"[{row.source}](../{row.path})"
        lines.append(f"| {variables} | {plain(row.default)} | {plain(row.meaning)} | {source} |")
    return lines


def grouped(rows: dict[str, Row]) -> list[tuple[Row, list[str]]]:
    """Variable -> row, as table entries: each row once with the names it shows (in the row's
    order), services' own rows first, then each library's, each module's rows in its order."""
    entries: dict[Row, list[str]] = {}
    for variable, row in rows.items():
        entries.setdefault(row, []).append(variable)
    return sorted(
        ((row, [name for name in row.names if name in shown]) for row, shown in entries.items()),
        key=lambda entry: (entry[0].source.startswith("libs/"), entry[0].path, entry[0].line),
    )


def render(
    services: dict[str, tuple[list[str], set[str]]],
    own: dict[str, dict[str, Row]],
    libraries: dict[str, Row],
) -> str:
    names = sorted(services)
    # Read by every service, from the same library row, required by none: shown once.
    common: set[str] = set()
    if len(names) > 1:
        common = set.intersection(*(set(services[s][0]) for s in names))
        common = {
            v
            for v in common
            if v in libraries
            and all(v not in own[s] and v not in services[s][1] for s in names)
        }

    out = [
        "# Configuration reference",
        "",
        f"<!-- Generated by `{REGENERATE}` (.ci/config_reference.py): do not edit by hand. -->",
        "",
        "Every service is configured by environment variables only, read once at start.",
        "",
        f"This page is generated by `{REGENERATE}` from the `| variable | default | meaning |`",
        "tables of the settings modules named in the *source* column, and each service's ports",
        "from its manifest (`services/<service>/service.toml`). Do not edit it by hand:",
        f"change the table there and run `{REGENERATE}`. CI checks that this page is current",
        "and that every variable a service reads is documented",
        "(`python3 .ci/config_reference.py target/env-vars.json --check`), against the variables",
        "the env-vars tool (`tools/devstack/src/bin/env-vars.rs`) sees each service's settings",
        "code read.",
        "",
        "**required** marks a variable the service does not start without. An empty value",
        "counts as unset.",
        "",
        "Services: " + ", ".join(f"[{s}](#{s})" for s in names) + ".",
        "",
    ]
    if common:
        out += ["## Every service", "", "Every service reads these, with the same meaning:", ""]
        out += table(grouped({v: libraries[v] for v in common}), set()) + [""]

    for service in names:
        reads, required = services[service]
        rows = {}
        for variable in reads:
            row = own[service].get(variable) or libraries.get(variable)
            if variable not in common and row is not None:
                rows[variable] = row
        settings = config_path(service).relative_to(ROOT)
        intro = "Reads the variables of [every service](#every-service) and these" if common else (
            "Reads these"
        )
        out += [f"## {service}", "", ports_line(service), ""]
        out += [f"{intro} (settings: [`{settings}`](../{settings})):", ""]
        out += table(grouped(rows), required) + [""]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    args = argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    if len(args) != 1 or args[0].startswith("-"):
        print(
            "usage: python3 .ci/config_reference.py ENV_VARS.json [--check]\n"
            "  where ENV_VARS.json is the output of"
            " `cargo run -q -p platform-devstack --bin env-vars`;\n"
            f"  writes {OUTPUT.relative_to(ROOT)}, or with --check verifies it is current",
            file=sys.stderr,
        )
        return 2
    problems: list[str] = []
    try:
        services = load_env_vars(Path(args[0]))
        if not services:
            raise CheckError(f"{args[0]} lists no service")
        libraries = library_rows(problems)
        own = {service: service_rows(service, problems) for service in sorted(services)}
    except CheckError as e:
        print(f"config-reference: cannot check: {e}", file=sys.stderr)
        return 2

    for service in sorted(services):
        reads, required = services[service]
        problems += check_service(service, reads, required, own[service], libraries)
    if problems:
        for problem in problems:
            print(problem)
        print(
            f"\n{len(problems)} finding(s): fix the documentation tables (or the code), then run"
            f" `{REGENERATE}`. {OUTPUT.relative_to(ROOT)} was not "
            + ("checked." if check else "written.")
        )
        return 1

    text = render(services, own, libraries)
    relative = OUTPUT.relative_to(ROOT)
    if check:
        try:
            current = OUTPUT.read_text()
        except FileNotFoundError:
            current = None
        except OSError as e:
            print(f"config-reference: cannot check: cannot read {relative}: {e}", file=sys.stderr)
            return 2
        if current != text:
            print(f"{relative} is stale: run `{REGENERATE}`")
            return 1
        count = sum(len(reads) for reads, _ in services.values())
        print(f"{relative} is current: {len(services)} services, {count} variables, all documented.")
        return 0
    try:
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(text)
    except OSError as e:
        print(f"config-reference: cannot write {relative}: {e}", file=sys.stderr)
        return 2
    print(f"wrote {relative}: {len(services)} services, all variables documented.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
