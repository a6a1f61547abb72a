"""Per-example gradients of the 40-100-100-10 MLP (tanh, cross-entropy) for
a batch of 256, four ways: ``vmap(grad(loss))``, one batched backward of
the mean loss (the cost to compare against, giving one gradient), a Python
loop of per-example ``grad`` calls, and ``torch.func.vmap(torch.func.grad)``.

``python -m benchmarks.per_sample_grads [--quick]``
"""
import sys
import time

import numpy as np

SIZES = (40, 100, 100, 10)


def _data(batch, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        params[f"w{i}"] = (rng.standard_normal((b, a)) / np.sqrt(a)).astype(np.float32)
        params[f"b{i}"] = np.zeros(b, np.float32)
    x = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], batch)
    return params, x, y


def _loss(m, F):
    def loss(p, x, y):
        h = m.tanh(F.linear(x, p["w0"], p["b0"]))
        h = m.tanh(F.linear(h, p["w1"], p["b1"]))
        out = F.linear(h, p["w2"], p["b2"])
        if out.ndim == 1:  # one example
            out, y = out.unsqueeze(0), y.unsqueeze(0)
        return F.cross_entropy(out, y)
    return loss


def _best(fn, min_seconds):
    fn()  # warm up
    times, total = [], 0.0
    while total < min_seconds or len(times) < 3:
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        times.append(dt)
        total += dt
    return 1e3 * min(times)


def measure(batch=256, min_seconds=1.0, loop=True):
    """Milliseconds per call: {'vmap_grad', 'batched_backward', 'loop',
    'torch_vmap_grad'}; the loop is timed on 32 examples and scaled."""
    import chainrule as cr
    import chainrule.func as cf
    import chainrule.nn.functional as F

    p, x, y = _data(batch)
    pc = {k: cr.tensor(v) for k, v in p.items()}
    xc, yc = cr.tensor(x), cr.tensor(y)
    loss = _loss(cr, F)
    per_example = cf.vmap(cf.grad(loss), in_dims=(None, 0, 0))
    res = {"batch": batch}
    res["vmap_grad"] = _best(lambda: per_example(pc, xc, yc), min_seconds)
    batched = cf.grad(loss)
    res["batched_backward"] = _best(lambda: batched(pc, xc, yc), min_seconds)
    if loop:
        g1, n = cf.grad(loss), 32
        res["loop"] = _best(lambda: [g1(pc, xc[i], yc[i]) for i in range(n)],
                            min_seconds) * batch / n
    try:
        import torch
        import torch.func as tf
    except ImportError:
        return res
    torch.set_num_threads(1)
    pt = {k: torch.tensor(v) for k, v in p.items()}
    xt, yt = torch.tensor(x), torch.tensor(y)
    tper = tf.vmap(tf.grad(_loss(torch, torch.nn.functional)), in_dims=(None, 0, 0))
    res["torch_vmap_grad"] = _best(lambda: tper(pt, xt, yt), min_seconds)
    return res


def report(res):
    b = res["batched_backward"]
    print(f"per-example gradients, MLP {'-'.join(map(str, SIZES))}, batch "
          f"{res['batch']} (ms per batch; ratio to one batched backward):")
    for key, label in (("vmap_grad", "chainrule vmap(grad(loss))"),
                       ("batched_backward", "chainrule one batched backward"),
                       ("loop", "chainrule per-example loop of grad"),
                       ("torch_vmap_grad", "torch.func vmap(grad(loss))")):
        if key in res:
            print(f"  {label:38} {res[key]:9.2f} ms  {res[key] / b:7.2f}x")


def main(argv=()):
    quick = "--quick" in argv
    report(measure(min_seconds=0.3 if quick else 1.5))


if __name__ == "__main__":
    main(sys.argv[1:])
