"""`python -m bench.hotspots FILE [N]`: the functions that py-spy's collapsed stacks (--format raw)
spent most samples in, inclusive and own time, to read a profile without a browser."""

from __future__ import annotations

import sys
from collections import Counter


def main(path: str, top: int = 25) -> None:
    inclusive, own, total = Counter(), Counter(), 0
    with open(path, encoding="utf-8") as lines:
        stacks = lines.read().splitlines()
    for line in stacks:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    print(f"{total} samples\n-- inclusive")
    for frame, n in inclusive.most_common(top):
        print(f"{100 * n / total:5.1f}%  {frame}")
    print("-- own")
    for frame, n in own.most_common(top):
        print(f"{100 * n / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25)
