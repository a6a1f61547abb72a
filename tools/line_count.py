"""Print the line count of chainrule/, by package, largest first.

``make test`` runs it after ruff, so every change shows its size (small is a
feature).  Counts non-blank lines of Python source.
"""
import collections
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "chainrule"


def counts(root=ROOT):
    per = collections.Counter()
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        key = rel.parts[0] if len(rel.parts) > 1 else rel.name
        per[key] += sum(1 for line in path.read_text().splitlines() if line.strip())
    return per


def main():
    per = counts()
    for key, n in per.most_common():
        print(f"{n:7d}  {key}")
    print(f"{sum(per.values()):7d}  chainrule/ (non-blank Python lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
