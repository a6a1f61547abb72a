"""Wide networks become Gaussian processes: prior samples and NNGP regression.

A one-hidden-layer ReLU network with weights ``N(0, weight_var / fan_in)`` and
biases ``N(0, bias_var)`` has, at any width, the output covariance
``gp.kernels.NNGP(depth=1)``; as the width grows its outputs also become
*Gaussian* (the central limit theorem over hidden units).  This example draws
4,000 random networks per width and measures the excess kurtosis of f(x0)
(0 for a Gaussian), plots prior function samples of narrow and wide networks
next to samples of the GP, then compares NNGP regression with a trained
finite network on a small 1-D problem.  Writes ``nngp_wide.png``.

Asserted result: |excess kurtosis| falls with width and is below 0.3 at width
1,024; the empirical covariance matches the NNGP kernel to 5%; NNGP regression
reaches test MSE below 0.05.  ``CHAINRULE_QUICK=1`` or ``--quick`` trains the
finite network for fewer steps.
Run: ``python examples/nngp_wide.py``.
"""
import os
import sys

import chainrule as cr
from chainrule import gp, nn, optim

QUICK = os.environ.get("CHAINRULE_QUICK") == "1" or "--quick" in sys.argv
WV, BV = 2.0, 0.2
WIDTHS = (2, 8, 64, 1024)


def networks(x, width, n_nets, gen):
    """Outputs (n_nets, len(x)) of random one-hidden-layer ReLU nets on x (n, 1)."""
    w1 = cr.randn(n_nets, 1, width, generator=gen, dtype=cr.float64) * WV ** 0.5
    b1 = cr.randn(n_nets, 1, width, generator=gen, dtype=cr.float64) * BV ** 0.5
    w2 = cr.randn(n_nets, width, 1, generator=gen, dtype=cr.float64)
    w2 = w2 * (WV / width) ** 0.5
    b2 = cr.randn(n_nets, 1, 1, generator=gen, dtype=cr.float64) * BV ** 0.5
    h = cr.relu(x.unsqueeze(0) @ w1 + b1)  # (n_nets, n, width)
    return (h @ w2 + b2).squeeze(-1)


def kurtosis(f):
    z = (f - f.mean()) / f.std(correction=0)
    return float((z ** 4).mean() - 3)


def main():
    gen = cr.Generator().manual_seed(0)
    kernel = gp.NNGP(depth=1, weight_var=WV, bias_var=BV)
    pts = cr.tensor([[-1.0], [0.5], [2.0]], dtype=cr.float64)
    exact = kernel(pts).detach()
    kurts = {}
    for width in WIDTHS:
        f = networks(pts, width, 4000, gen)  # (4000, 3)
        kurts[width] = kurtosis(f[:, 1])
        emp = (f - 0).mT @ f / f.shape[0]
        err = float(((emp - exact).abs() / exact.abs().max()).max())
        print(f"width {width:5d}: excess kurtosis of f(0.5) {kurts[width]:+.3f}, "
              f"covariance error vs NNGP {err:.3f}")
        assert err < 0.05
    ks = [abs(kurts[w]) for w in WIDTHS]
    assert ks[0] > ks[-1] and ks[-1] < 0.3

    # NNGP regression against a trained finite network
    x = cr.linspace(-3, 3, 40, dtype=cr.float64).reshape(-1, 1)
    y = cr.sin(2 * x).reshape(-1) + 0.05 * cr.randn(40, generator=gen,
                                                    dtype=cr.float64)
    xt = cr.linspace(-2.9, 2.9, 200, dtype=cr.float64).reshape(-1, 1)
    yt = cr.sin(2 * xt).reshape(-1)
    model = gp.GPRegression(gp.NNGP(depth=2, weight_var=WV, bias_var=BV),
                            noise=0.0025, learn_noise=False).fit(x, y, steps=0)
    mean, std = model.predict(xt, return_std=True)
    mse_gp = float(((mean - yt) ** 2).mean())
    cr.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                        nn.Linear(256, 1)).to(cr.float64)
    opt = optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(600 if QUICK else 3000):
        opt.zero_grad()
        loss = ((net(x).reshape(-1) - y) ** 2).mean()
        loss.backward()
        opt.step()
    with cr.no_grad():
        pred_net = net(xt).reshape(-1)
    mse_net = float(((pred_net - yt) ** 2).mean())
    print(f"test MSE: NNGP regression {mse_gp:.4f}, trained width-256 network "
          f"{mse_net:.4f}")
    assert mse_gp < 0.05
    _plot(kernel, gen, kurts, x, y, xt, mean, std, pred_net)


def _plot(kernel, gen, kurts, x, y, xt, mean, std, pred_net):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    grid = cr.linspace(-3, 3, 150, dtype=cr.float64).reshape(-1, 1)
    fig = Figure(figsize=(13, 3.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 4)
    g = grid.numpy().ravel()
    for ax, width in zip(axes[:2], (2, 1024)):
        f = networks(grid, width, 6, gen).numpy()
        ax.plot(g, f.T, lw=1)
        ax.set(title=f"random ReLU nets, width {width}\nexcess kurtosis "
               f"{kurts[width]:+.2f}", xlabel="x", ylim=(-6, 6))
    K = kernel(grid).detach() + 1e-9 * cr.eye(150, dtype=cr.float64)
    L = cr.linalg.cholesky(K)
    samples = (L @ cr.randn(150, 6, generator=gen, dtype=cr.float64)).numpy()
    axes[2].plot(g, samples, lw=1)
    axes[2].set(title="samples of the NNGP (infinite width)", xlabel="x", ylim=(-6, 6))
    ax = axes[3]
    t, m, s = xt.numpy().ravel(), mean.numpy(), std.numpy()
    ax.fill_between(t, m - 2 * s, m + 2 * s, alpha=0.3, label="NNGP +- 2 sd")
    ax.plot(t, m, label="NNGP mean")
    ax.plot(t, pred_net.numpy(), "C3--", label="trained network")
    ax.plot(x.numpy(), y.numpy(), "k.", ms=4, label="data")
    ax.set(title="regression: NNGP vs a trained net", xlabel="x")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig("nngp_wide.png", dpi=100)


if __name__ == "__main__":
    main()
