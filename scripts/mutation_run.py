"""`make mutation`: mutmut on the security modules, one module at a time, each with its own tests.

mutmut 3 takes one only_mutate list and one test selection for the whole run, so mutating one module
meant generating every module's mutants and collecting stats over every suite. Here each module of
[tool.mutation.modules] in pyproject.toml is run on its own, in its own process: mutmut's settings
are read as usual and then narrowed to that module and its tests, so mutmut collects stats over
those tests only and every mutant runs only the tests among them that reached its function.

    scripts/mutation_run.py                              every module, smallest first
    scripts/mutation_run.py accounts/clientip.py ...     these modules
    scripts/mutation_run.py accounts/clientip.py --mutants 'accounts.clientip.x*'
    --keep          keep the module's killed mutants (survivors, new and named mutants run)
    --max-children  parallel mutants (default 1: the machine is shared)

Results stay in mutants/<module>.meta, one file per module, so modules run on different days
add up; scripts/mutation_report.py turns them into the table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def modules() -> dict[str, list[str]]:
    """Module -> test paths (globs allowed; a leading ! leaves a path out), from pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutation"]["modules"]


def test_selection(patterns: list[str]) -> list[str]:
    chosen: list[str] = []
    for pattern in patterns:
        if pattern.startswith("!"):
            for path in sorted(ROOT.glob(pattern[1:])):
                chosen = [p for p in chosen if p != str(path.relative_to(ROOT))]
            continue
        found = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(pattern))
        if not found:
            raise SystemExit(f"mutation: no test file matches {pattern!r}")
        chosen += [p for p in found if p not in chosen]
    return chosen


STATS = ROOT / "mutants" / "mutmut-stats.json"
DB_TEMPLATE = ROOT / "mutants" / "test-db.sqlite3"
SURVIVED = {0, 5, 33}  # survived, no tests: as scripts/mutation_report.py counts them


def listed_equivalents() -> set[str]:
    """The names in scripts/mutation-equivalents.txt (``name  # reason`` a line)."""
    text = (ROOT / "scripts" / "mutation-equivalents.txt").read_text()
    return {line.partition("#")[0].strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")}


def prepare(module: str, *, keep: bool) -> None:
    """Leave mutants/ as mutmut would find it after a run of this module alone.

    mutmut takes a file in mutants/ newer than its source for one it already mutated, and a run of
    another module left an unmutated copy there: the module's copy always goes. Its stats (which
    test reaches which function) are kept per module, in <module>.stats.json, since another
    module's would make mutmut throw the results away. Its results (<module>.meta) go unless kept;
    kept, its survivors run again (tests may have been added since), killed mutants stay killed,
    and so do the survivors listed as equivalent: no test can kill them, and a survivor runs every
    test that reaches its function, the most expensive run there is.
    """
    mutated = ROOT / "mutants" / module
    mutated.unlink(missing_ok=True)
    own_stats = mutated.with_name(mutated.name + ".stats.json")
    meta = mutated.with_name(mutated.name + ".meta")
    STATS.unlink(missing_ok=True)
    if not keep:
        for path in (meta, mutated.with_name(mutated.name + ".spans"), own_stats):
            path.unlink(missing_ok=True)
        return
    if own_stats.exists():
        shutil.copy(own_stats, STATS)
    if meta.exists():
        data = json.loads(meta.read_text())
        codes = data["exit_code_by_key"]
        equivalent = listed_equivalents()
        data["exit_code_by_key"] = {name: None if code in SURVIVED and name not in equivalent else code
                                    for name, code in codes.items()}
        meta.write_text(json.dumps(data))


def keep_stats(module: str) -> None:
    if STATS.exists():
        shutil.copy(STATS, ROOT / "mutants" / f"{module}.stats.json")


def run_one(module: str, mutants: list[str], max_children: int) -> int:
    """In this process (started by main): mutmut's run, narrowed to one module and its tests."""
    from mutmut import configuration
    from mutmut.__main__ import cli

    config = configuration.config()
    config.only_mutate = [module]
    # Each mutant's pytest run copies a test database migrated once (tests/mutation_db.py).
    os.environ["MUTATION_DB_TEMPLATE"] = str(DB_TEMPLATE)
    config.pytest_add_cli_args = [*config.pytest_add_cli_args, "-p", "tests.mutation_db"]
    config.pytest_add_cli_args_test_selection = test_selection(modules()[module])
    try:
        cli(["run", "--max-children", str(max_children), *mutants], standalone_mode=False)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*")
    parser.add_argument("--mutants", nargs="*", default=[])
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if args.one:
        return run_one(args.one, args.mutants, args.max_children)

    known = modules()
    chosen = args.modules or sorted(known, key=lambda m: len((ROOT / m).read_text().splitlines()))
    unknown = [m for m in chosen if m not in known]
    if unknown:
        raise SystemExit(f"mutation: not in [tool.mutation.modules]: {', '.join(unknown)}")
    if args.mutants and len(chosen) != 1:
        raise SystemExit("mutation: --mutants names mutants of one module")
    failed = []
    DB_TEMPLATE.unlink(missing_ok=True)  # migrated afresh: the migrations may have changed
    for module in chosen:
        print(f"\n=== {module}", flush=True)
        prepare(module, keep=args.keep or bool(args.mutants))
        command = [sys.executable, __file__, "--one", module, "--max-children", str(args.max_children)]
        if args.mutants:
            command += ["--mutants", *args.mutants]
        if subprocess.call(command) != 0:  # noqa: S603 - this script, this interpreter
            failed.append(module)
        keep_stats(module)
    if failed:
        print(f"mutation: mutmut failed on {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
