"""``python -m benchmarks [--quick] [--only W1 W3] [--out PATH] [--torch-compile]
[--profile W1 [--nodes]]``."""
import argparse

from .runner import run


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="short runs (rough numbers)")
    ap.add_argument("--only", nargs="*", help="workload names, e.g. W1 W3")
    ap.add_argument("--out", default="benchmarks/results.json")
    ap.add_argument("--torch-compile", action=argparse.BooleanOptionalAction,
                    default=None, help="the torch.compile column (default: on, "
                    "off with --quick; its first call takes a minute or more)")
    ap.add_argument("--profile", metavar="W", help="profile the jitted step of "
                    "workload W (pyinstrument) instead of benchmarking")
    ap.add_argument("--nodes", action="store_true", help="with --profile: "
                    "time each node of the compiled graph instead")
    args = ap.parse_args()
    if args.profile:
        from .jit import node_profile, profile

        (node_profile if args.nodes else profile)(args.profile)
    else:
        run(quick=args.quick, only=args.only, out_path=args.out,
            torch_compile=args.torch_compile)


if __name__ == "__main__":
    main()
