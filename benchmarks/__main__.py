"""``python -m benchmarks [--quick] [--only W1 W3] [--out PATH]``."""
import argparse

from .runner import run


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="short runs (rough numbers)")
    ap.add_argument("--only", nargs="*", help="workload names, e.g. W1 W3")
    ap.add_argument("--out", default="benchmarks/results.json")
    args = ap.parse_args()
    run(quick=args.quick, only=args.only, out_path=args.out)


if __name__ == "__main__":
    main()
