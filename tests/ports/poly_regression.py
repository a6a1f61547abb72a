"""Polynomial regression, written as a plain PyTorch program.

Fits ``y = w1 x + w2 x^2 + w3 x^3 + w4 x^4 + b`` with one ``nn.Linear`` and
SGD with momentum, full batch, and reports progress with format specs on
0-d tensors (``'{:.6f}'.format(loss)``, ``'{:+.3f}'.format(w)``).  The data
are a fixed function of ``x``, so only the initial weights depend on the
seed; the fit converges to the same least-squares solution either way.
"""
import argparse
import json

import torch
import torch.nn.functional as F

TOLERANCE = {"loss": 0.01, "w1": 0.01, "w2": 0.01, "w3": 0.01, "w4": 0.01,
             "b": 0.01}
SEEDS = [0, 1]
POLY_DEGREE = 4


def make_features(x):
    """Columns ``[x, x^2, x^3, x^4]`` for ``x`` of shape ``(N,)``."""
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE + 1)], 1)


def poly_desc(W, b):
    result = "y = "
    for i, w in enumerate(W):
        result += "{:+.3f} x^{} ".format(w, i + 1)
    result += "{:+.3f}".format(b[0])
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--short", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    x = torch.linspace(-1, 1, 200)
    # A quartic plus a small wiggle no quartic can fit, so the optimum loss is > 0.
    y = (0.5 + 1.5 * x - 2.0 * x ** 2 + 0.7 * x ** 3 + 1.2 * x ** 4
         + 0.05 * torch.sin(9 * x)).unsqueeze(1)
    features = make_features(x)
    fc = torch.nn.Linear(POLY_DEGREE, 1)
    opt = torch.optim.SGD(fc.parameters(), lr=0.3, momentum=0.9)
    steps = 800 if args.short else 3000
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss = F.mse_loss(fc(features), y)
        loss.backward()
        opt.step()
        if step % 200 == 0:
            print("step {:>6d}  loss {:.6f}".format(step, loss))
    with torch.no_grad():
        loss = F.mse_loss(fc(features), y)
    print("Loss: {:.6e} after {} steps".format(loss, steps))
    print("==> Learned function:\t" + poly_desc(fc.weight.view(-1), fc.bias))
    w = fc.weight.view(-1)
    result = {"loss": float("{:.8e}".format(loss))}
    result.update({f"w{i + 1}": float(format(w[i], ".8f")) for i in range(POLY_DEGREE)})
    result["b"] = fc.bias.item()
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
