"""Plots of a search: objective vs trial, one slice per parameter, and the
learning curves of all trials with the pruned ones marked."""
import math


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_search(result, path=None):
    """Draw ``result`` (a SearchResult); save to ``path`` if given; returns the
    matplotlib Figure."""
    plt = _pyplot()
    names = []
    for t in result.trials:
        names += [k for k in t.params if k not in names]
    names = names[:4]
    curves = any(t.curve for t in result.trials)
    ncols = 1 + len(names) + (1 if curves else 0)
    ncols_row = min(ncols, 3)
    nrows = math.ceil(ncols / ncols_row)
    fig, axes = plt.subplots(nrows, ncols_row, figsize=(4.2 * ncols_row, 3.4 * nrows),
                             squeeze=False)
    axes = list(axes.ravel())
    colors = {"COMPLETE": "tab:blue", "PRUNED": "tab:red", "FAIL": "grey",
              "RUNNING": "grey"}
    done = [t for t in result.trials if t.value is not None]
    ax = axes.pop(0)
    for state in ("COMPLETE", "PRUNED"):
        pts = [(t.number, t.value) for t in done if t.state == state]
        if pts:
            ax.scatter(*zip(*pts), s=14, c=colors[state], label=state.lower())
    best, run = [], None
    pick = min if result.direction == "minimize" else max
    for t in sorted(done, key=lambda t: t.number):
        if t.state == "COMPLETE":
            run = t.value if run is None else pick(run, t.value)
        if run is not None:
            best.append((t.number, run))
    if best:
        ax.step(*zip(*best), where="post", c="k", lw=1, label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("objective")
    ax.set_title(f"{result.method}: objective vs trial")
    ax.legend(fontsize=7)
    for name in names:
        ax = axes.pop(0)
        pts = [(t.params[name], t.value, t.state) for t in done if name in t.params]
        for state in ("COMPLETE", "PRUNED"):
            sel = [(p, v) for p, v, s in pts if s == state]
            if not sel:
                continue
            xs = [p if not isinstance(p, str) and p is not None else str(p)
                  for p, _ in sel]
            ax.scatter(xs, [v for _, v in sel], s=14, c=colors[state])
        numeric = pts and all(isinstance(p, (int, float)) and not isinstance(p, bool)
                              for p, _, _ in pts)
        if numeric and min(p for p, _, _ in pts) > 0 and \
                max(p for p, _, _ in pts) / min(p for p, _, _ in pts) > 50:
            ax.set_xscale("log")
        ax.set_xlabel(name)
        ax.set_ylabel("objective")
        ax.set_title(f"slice: {name}")
    if curves:
        ax = axes.pop(0)
        for t in result.trials:
            if not t.curve:
                continue
            steps = sorted(t.curve)
            vals = [t.curve[s] for s in steps]
            pruned = t.state == "PRUNED"
            ax.plot(steps, vals, c=colors.get(t.state, "grey"), lw=0.8,
                    alpha=0.8 if pruned else 0.6)
            if pruned:
                ax.plot(steps[-1], vals[-1], "x", c="tab:red", ms=6)
        ax.set_xlabel("step")
        ax.set_ylabel("reported value")
        ax.set_title("learning curves (red x: pruned)")
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=90)
        plt.close(fig)
    return fig
