"""The kill rate of each mutated module after `mutmut run` (`make mutation` prints it).

Reads mutmut's own results (mutants/<module>.meta, as `mutmut results` does) for every module of
[tool.mutation.modules] in pyproject.toml, and leaves out the equivalent mutants listed by hand,
with a reason, in scripts/mutation-equivalents.txt. Timeouts count as killed: the tests noticed.
"No tests" mutants count as survivors: nothing would notice. Mutants not run yet (a run stopped
early) are shown, and a module none of whose mutants ran is shown as not run.

Exit status 1 when a module that was run misses its target: 95 % for modules of at most 200 lines,
90 % for longer ones. `--list` also prints every surviving mutant's name.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "scripts" / "mutation-equivalents.txt"
KILLED = {1, 3, 24, -24, 152, 255, 36, 37, -9, -11}  # killed, pytest error, timeout, type check, crash
SURVIVED = {0, 5, 33}  # survived, no tests


def equivalents() -> dict[str, str]:
    """``mutant name  # reason`` per line; blank lines and lines starting with # are ignored."""
    found: dict[str, str] = {}
    for line in EQUIVALENTS.read_text().splitlines() if EQUIVALENTS.exists() else []:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition("#")
        found[name.strip()] = reason.strip()
    return found


def main(argv: list[str]) -> int:
    modules = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutation"]["modules"]
    listed = equivalents()
    seen: set[str] = set()
    rows, survivors, failing = [], [], []
    for module in sorted(modules, key=lambda m: len((ROOT / m).read_text().splitlines())):
        meta = ROOT / "mutants" / f"{module}.meta"
        if not meta.exists():
            rows.append((module, None))
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        count = {"killed": 0, "survived": 0, "equivalent": 0, "not run": 0}
        for name, code in codes.items():
            if name in listed:
                seen.add(name)
                count["equivalent"] += 1
                if code in KILLED:
                    print(f"note: {name} is listed as equivalent but was killed", file=sys.stderr)
            elif code is None:
                count["not run"] += 1
            elif code in KILLED:
                count["killed"] += 1
            else:
                count["survived"] += 1
                survivors.append(name)
        lines = len((ROOT / module).read_text().splitlines()) if (ROOT / module).exists() else 0
        rows.append((module, count | {"lines": lines}))
    print(f"| {'module':<32} | lines | mutants | equivalent | killed | survived | not run | kill rate "
          "| target |")
    print(f"|{'-' * 34}|-------|---------|------------|--------|----------|---------|-----------|--------|")
    for module, count in rows:
        if count is None:
            print(f"| {module:<32} |{' ' * 7}|{' ' * 9}|{' ' * 12}|{' ' * 8}|{' ' * 10}|{' ' * 9}"
                  "| not run   |        |")
            continue
        target = 95 if count["lines"] <= 200 else 90
        checked = count["killed"] + count["survived"]
        total = checked + count["equivalent"] + count["not run"]
        rate = f"{100 * count['killed'] / checked:.1f} %" if checked else "not run"
        if checked and not count["not run"] and 100 * count["killed"] / checked < target:
            failing.append(module)
        print(f"| {module:<32} | {count['lines']:>5} | {total:>7} | {count['equivalent']:>10} | "
              f"{count['killed']:>6} | {count['survived']:>8} | {count['not run']:>7} | {rate:>9} | "
              f"{target:>4} % |")
    ran = {module.removesuffix(".py").replace("/", ".") + "." for module, count in rows if count}
    for name in sorted(n for n in set(listed) - seen if n.startswith(tuple(ran))):
        print(f"note: {name} is listed as equivalent but mutmut has no such mutant (source changed?)",
              file=sys.stderr)
    if "--list" in argv and survivors:
        print("\nSurviving mutants (`mutmut show NAME` shows one):")
        for name in survivors:
            print(f"    {name}")
    if failing:
        print(f"\nBelow target: {', '.join(failing)}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
