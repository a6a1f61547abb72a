"""The ``chainrule`` command.

``chainrule demo`` trains a small convolutional network on scikit-learn's
8x8 handwritten digits and reports its test accuracy::

    chainrule demo [--out DIR] [--epochs N] [--quick] [--seed S]

It splits the 1,797 images 80/20 into training and test sets (fixed seed),
standardises them with training-set statistics, trains with Adam and a
cosine learning-rate schedule while holding out 10% of the training set for
validation, then writes to ``--out`` (default ``./out/demo``): the model
checkpoint (``digits_cnn.safetensors``, via ``chainrule.save``), the
learning curves (``learning_curves.png``) and the per-epoch log
(``history.csv``).  The exit status is 0 when the test accuracy reaches the
target (97%; 90% with ``--quick``, which trains 3 epochs), 1 otherwise.
"""
import argparse
import contextlib
import sys
import time
from pathlib import Path

TARGET = 0.97
QUICK_TARGET = 0.90


def build_cnn(dropout=True):
    """conv(1->16) relu conv(16->32) relu maxpool dropout dense(512->64) relu
    dropout dense(64->10): (N, 1, 8, 8) images -> (N, 10) logits."""
    from . import nn

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25 if dropout else 0.0), nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Dropout(0.5 if dropout else 0.0),
        nn.Linear(64, 10),
    )


def load_split(seed=0):
    """Digits split 80/20 with ``seed`` and standardised with training statistics.

    Returns ``(x_train, y_train, x_test, y_test, scaler)``; images are
    (N, 1, 8, 8) float32, labels (N,) int64.
    """
    import chainrule as cr
    from .data import Standardize
    from .data.datasets import load_digits

    X, y = load_digits(images=True)
    perm = cr.randperm(len(X), generator=cr.Generator().manual_seed(seed))
    n_train = int(0.8 * len(X))
    tr, te = perm[:n_train], perm[n_train:]
    scaler = Standardize().fit(X[tr])
    return scaler(X[tr]), y[tr], scaler(X[te]), y[te], scaler


def demo(out="out/demo", epochs=None, quick=False, seed=0, verbose=1):
    """Train, evaluate and save; returns the test accuracy (float)."""
    import chainrule as cr
    from . import optim
    from .train import CSVLogger, LearningRateScheduler, Trainer

    epochs = epochs or (3 if quick else 15)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    x_train, y_train, x_test, y_test, scaler = load_split(seed)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 "
          "pixels, standardised with training statistics")
    cr.manual_seed(seed)
    model = build_cnn()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: a small CNN with {n_params:,} parameters; training {epochs} epochs")
    opt = optim.Adam(model.parameters(), lr=2e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    trainer = Trainer(model, opt, "cross_entropy", ["accuracy"])
    history = trainer.fit(
        (x_train, y_train), epochs=epochs, batch_size=32, validation_split=0.1,
        callbacks=[LearningRateScheduler(sched), CSVLogger(out / "history.csv")],
        verbose=verbose)
    test = trainer.evaluate((x_test, y_test))
    seconds = time.perf_counter() - t0

    ckpt = out / "digits_cnn.safetensors"
    cr.save({"model": model.state_dict(), "standardize": scaler.state_dict()}, ckpt)
    wrote = [str(ckpt), str(out / "history.csv")]
    try:
        from .viz import plot_history

        wrote.append(str(plot_history(history, out / "learning_curves.png",
                                      title="chainrule demo: CNN on 8x8 digits")))
    except ImportError as e:
        print(f"(no learning-curve plot: {e})")
    correct = round(test["accuracy"] * len(x_test))
    print(f"test accuracy: {test['accuracy']:.2%} ({correct}/{len(x_test)}), "
          f"test loss {test['loss']:.4f}, in {seconds:.1f} s")
    print("wrote " + ", ".join(wrote))
    return test["accuracy"]


def _blas_threads(n):
    """Limit BLAS to ``n`` threads if threadpoolctl (a scikit-learn dependency)
    is there.  The demo's matrices are small: extra BLAS threads cost more in
    synchronisation than they save, and on a busy machine spinning threads
    made the run several times slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def _demo_command(args):
    target = QUICK_TARGET if args.quick else TARGET
    try:
        with _blas_threads(args.threads):
            acc = demo(args.out, args.epochs, args.quick, args.seed,
                       verbose=0 if args.silent else 1)
    except ImportError as e:
        print(f"chainrule demo: {e}", file=sys.stderr)
        return 2
    if acc < target:
        print(f"chainrule demo: test accuracy {acc:.2%} is below the target "
              f"{target:.0%}", file=sys.stderr)
        return 1
    print(f"target {target:.0%} reached")
    return 0


def build_parser():
    """The argument parser of the ``chainrule`` command (help strings are
    %-formatted by argparse: a literal percent sign is written ``%%``)."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="chainrule", description="chainrule: deep learning on NumPy with "
        "PyTorch's API.")
    parser.add_argument("--version", action="version",
                        version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    d = sub.add_parser("demo", help="train a small CNN on the 8x8 digits and report "
                       "its test accuracy", description=__doc__.split("\n\n")[2],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("--out", default="out/demo", metavar="DIR",
                   help="where to write the checkpoint, plot and log "
                   "(default: out/demo)")
    d.add_argument("--epochs", type=int, default=None, metavar="N",
                   help="training epochs (default: 15, or 3 with --quick)")
    d.add_argument("--quick", action="store_true",
                   help=f"a short run (3 epochs, target {QUICK_TARGET * 100:.0f}%%)")
    d.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    d.add_argument("--silent", action="store_true", help="no per-epoch progress")
    d.add_argument("--threads", type=int, default=1, metavar="N",
                   help="BLAS threads (default: 1, fastest for this small model)")
    r = sub.add_parser(
        "run", help="run a script on N processes under MPI (data-parallel training)",
        description="Start N copies of SCRIPT under mpirun; each joins the process "
        "group with chainrule.distributed.init_process_group('mpi'). A process "
        "that raises or dies stops the whole job, which exits non-zero.")
    r.add_argument("-n", "--nproc", type=int, default=2, metavar="N",
                   help="number of processes (default: 2)")
    r.add_argument("script", help="the Python script to run")
    r.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    return parser


def main(argv=None):
    """Entry point of the ``chainrule`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        if args.nproc < 1:
            parser.error("-n must be at least 1")
        from .distributed.run import run

        try:
            return run(args.nproc, args.script, args.args)
        except FileNotFoundError as e:
            print(e, file=sys.stderr)
            return 2
    if args.command == "demo":
        if args.epochs is not None and args.epochs < 1:
            parser.error("--epochs must be at least 1")
        return _demo_command(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
