"""XOR with a two-layer MLP, trained by chainrule's autograd.

The four XOR points are not linearly separable; a hidden layer of 8 tanh
units and plain gradient descent on the binary cross-entropy solve them.

Asserted result: all 4 predictions correct (exit status 1 otherwise).
Run: ``python examples/xor.py``.
"""
import sys

import chainrule as cr


def train(steps=2000, lr=0.5, seed=0, log_every=200):
    """Fit the MLP; returns (losses, probabilities for the four points)."""
    cr.manual_seed(seed)
    x = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = cr.tensor([[0.0], [1.0], [1.0], [0.0]])
    w1 = (cr.randn(2, 8) * 1.0).requires_grad_()
    b1 = cr.zeros(8, requires_grad=True)
    w2 = (cr.randn(8, 1) * 0.5).requires_grad_()
    b2 = cr.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]
    losses = []
    for step in range(steps + 1):
        h = cr.tanh(x @ w1 + b1)
        p = cr.sigmoid(h @ w2 + b2)
        loss = -(y * cr.log(p) + (1 - y) * cr.log(1 - p)).mean()
        for q in params:
            q.grad = None
        loss.backward()
        with cr.no_grad():
            for q in params:
                q -= lr * q.grad
        losses.append(loss.item())
        if log_every and step % log_every == 0:
            print(f"step {step:5d}  loss {loss.item():.5f}")
    with cr.no_grad():
        p = cr.sigmoid(cr.tanh(x @ w1 + b1) @ w2 + b2)
    return losses, p.reshape(-1).tolist()


def main():
    _, probs = train()
    targets = [0, 1, 1, 0]
    correct = 0
    for (a, b), p, t in zip([(0, 0), (0, 1), (1, 0), (1, 1)], probs, targets):
        pred = int(p > 0.5)
        correct += pred == t
        print(f"xor({a}, {b}) = {t}   predicted {pred}  (p = {p:.3f})")
    print(f"{correct}/4 correct")
    return 0 if correct == 4 else 1


if __name__ == "__main__":
    sys.exit(main())
