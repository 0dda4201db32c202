"""Kill rate per module from mutmut's results (`make mutate` prints it after the run).

Reads `mutmut results --all true` (one `name: status` line per mutant) and prints a table:
module, mutants, killed (incl. timeouts), survived, not checked, kill rate of the checked ones;
then the survivors, so each can be explained or killed by a new test.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict


def main() -> int:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    counts: dict[str, Counter] = defaultdict(Counter)
    survivors: list[str] = []
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        module = name.split(".x", 1)[0]
        counts[module][status] += 1
        if status == "survived":
            survivors.append(name)
    print(
        f"{'module':<28} {'mutants':>7} {'killed':>7} {'survived':>8} {'unchecked':>9} {'kill rate':>9}"
    )
    for module, c in sorted(counts.items()):
        killed = c["killed"] + c["timeout"]
        checked = killed + c["survived"] + c["no tests"] + c["suspicious"]
        rate = f"{killed / checked:.1%}" if checked else "-"
        print(
            f"{module:<28} {sum(c.values()):>7} {killed:>7} {c['survived'] + c['no tests']:>8} "
            f"{c['not checked']:>9} {rate:>9}"
        )
    if survivors:
        print("\nsurvivors (mutmut show NAME):")
        for name in survivors:
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
