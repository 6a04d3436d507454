"""How `make test`'s two workers spent their time, from the timelines tests/conftest.py writes
(artifacts/<worker>/timeline.tsv): each worker's busy time and when it ran out of work, the longest files, and
(with --write) the per-file seconds that tests/conftest.py orders the files by, longest first.

    make test; python bench/test_balance.py [--write]
"""

import argparse
import json
from collections import defaultdict
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_ROOT / "artifacts"
FILE_SECONDS = PROJECT_ROOT / "tests" / "file_seconds.json"


def read_timelines() -> dict[str, list[tuple[float, float, str]]]:
    """worker -> [(start, end, nodeid)] in the order they ran."""
    timelines = {}
    for path in sorted(ARTIFACTS.glob("*/timeline.tsv")):
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            start, end, nodeid = line.split("\t", 2)
            rows.append((float(start), float(end), nodeid))
        if rows:
            timelines[path.parent.name] = rows
    return timelines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"write {FILE_SECONDS.relative_to(PROJECT_ROOT)}")
    args = parser.parse_args()
    timelines = read_timelines()
    if not timelines:
        raise SystemExit("no artifacts/*/timeline.tsv: run make test first")
    first = min(rows[0][0] for rows in timelines.values())
    last = max(rows[-1][1] for rows in timelines.values())
    print(f"tests ran {last - first:.0f} s from the first start to the last end")
    per_file: dict[str, float] = defaultdict(float)
    for worker, rows in timelines.items():
        busy = sum(end - start for start, end, _ in rows)
        print(f"{worker}: {len(rows)} tests, busy {busy:.0f} s, out of work {last - rows[-1][1]:.0f} s before the end")
        for start, end, nodeid in rows:
            per_file[nodeid.split("::", 1)[0]] += end - start
    print("longest files:")
    for name, seconds in sorted(per_file.items(), key=lambda item: -item[1])[:15]:
        print(f"  {seconds:6.1f} s  {name}")
    if args.write:
        ordered = dict(sorted(((name, round(s, 1)) for name, s in per_file.items()), key=lambda item: -item[1]))
        FILE_SECONDS.write_text(json.dumps(ordered, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {FILE_SECONDS.relative_to(PROJECT_ROOT)} ({len(ordered)} files)")


if __name__ == "__main__":
    main()
