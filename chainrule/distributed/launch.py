"""Run one process of a distributed job: ``python -m chainrule.distributed.launch
script.py args...`` (what ``chainrule run`` starts under ``mpirun``).

The script runs as ``__main__``.  If it raises, the traceback is printed with
the process's rank and the whole job is aborted (``MPI_Abort``), so the other
processes never wait forever in a collective for a process that is gone;
``mpirun`` then exits non-zero.  A process killed by a signal is detected by
``mpirun`` itself, which stops the others and names the rank.
"""
import os
import runpy
import sys
import traceback


def _rank():
    for var in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"):
        if var in os.environ:
            return os.environ[var]
    return "?"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m chainrule.distributed.launch script.py [args...]",
              file=sys.stderr)
        return 2
    script = argv[0]
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if code:
            print(f"chainrule run: rank {_rank()} exited with status {code}",
                  file=sys.stderr, flush=True)
            _abort(code)
        return 0
    except BaseException as e:  # noqa: BLE001 - report any failure, then abort
        tb = traceback.format_exc()
        print(f"chainrule run: rank {_rank()} failed: {type(e).__name__}: {e}\n{tb}",
              file=sys.stderr, flush=True)
        _abort(1)
    return 0


def _abort(code):
    """Stop every process of the job (if MPI is up), else just this one."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized():
        mpi.COMM_WORLD.Abort(code)
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
