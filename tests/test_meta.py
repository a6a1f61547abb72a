"""chainrule.meta: MAML's meta-gradient against PyTorch (second and first
order), task-batched adaptation, unrolled SGD hypergradients checked by
finite differences, and the error for optimizers that record no graph."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import meta, nn, optim
from chainrule.errors import ArgumentError


def _pair():
    cr.manual_seed(0)
    m = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    t = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(),
                            torch.nn.Linear(8, 1))
    with torch.no_grad():
        for (_, p), q in zip(m.named_parameters(), t.parameters()):
            q.copy_(torch.tensor(p.detach().numpy()))
    return m, t


def _data():
    rng = np.random.default_rng(0)
    return [rng.standard_normal((5, 1)).astype("float32") for _ in range(4)]


@pytest.mark.parametrize("first_order", [False, True])
def test_maml_meta_gradient_matches_pytorch(first_order):
    m, t = _pair()
    xs, ys, xq, yq = _data()
    maml = meta.MAML(m, nn.functional.mse_loss, inner_lr=0.3, inner_steps=2,
                     first_order=first_order)
    maml.meta_loss([tuple(cr.tensor(a) for a in (xs, ys, xq, yq))]).backward()
    # The reference: the same algorithm written out in PyTorch.
    params = list(t.parameters())
    fast = params
    for _ in range(2):
        out = torch.func.functional_call(t, dict(zip(["0.weight", "0.bias", "2.weight",
                                                      "2.bias"], fast)),
                                         (torch.tensor(xs),))
        loss = torch.nn.functional.mse_loss(out, torch.tensor(ys))
        gs = torch.autograd.grad(loss, fast, create_graph=not first_order)
        fast = [p - 0.3 * g for p, g in zip(fast, gs)]
    out = torch.func.functional_call(t, dict(zip(["0.weight", "0.bias", "2.weight",
                                                  "2.bias"], fast)),
                                     (torch.tensor(xq),))
    torch.nn.functional.mse_loss(out, torch.tensor(yq)).backward()
    for p, q in zip(m.parameters(), t.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4,
                                   atol=1e-6)


def test_second_and_first_order_differ():
    grads = []
    for fo in (False, True):
        m, _ = _pair()
        xs, ys, xq, yq = (cr.tensor(a) for a in _data())
        meta.MAML(m, nn.functional.mse_loss, 0.3, first_order=fo).meta_loss(
            [(xs, ys, xq, yq)]).backward()
        grads.append(m[0].weight.grad.clone())
    assert not cr.allclose(grads[0], grads[1], atol=1e-5)


def test_expand_adapts_each_task_like_a_loop():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 1)

        def forward(self, x):
            return cr.matmul(x, self.lin.weight.transpose(-1, -2)) + \
                self.lin.bias.unsqueeze(-2)

    cr.manual_seed(0)
    net = Net()
    g = cr.Generator().manual_seed(0)
    x, y = cr.randn(3, 4, 1, generator=g), cr.randn(3, 4, 1, generator=g)
    summed = meta.MAML(net, lambda o, t: ((o - t) ** 2).mean(dim=(-2, -1)).sum(), 0.1)
    batched = summed.adapt(x, y, summed.expand(3), create_graph=False)
    single = meta.MAML(net, nn.functional.mse_loss, 0.1)
    for i in range(3):
        one = single.adapt(x[i], y[i], create_graph=False)
        assert cr.allclose(batched["lin.weight"][i], one["lin.weight"], atol=1e-6)


def test_unrolled_sgd_hypergradient_matches_finite_differences():
    cr.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    g = cr.Generator().manual_seed(0)
    batches = [(cr.randn(4, 2, generator=g, dtype=cr.float64),
                cr.randn(4, 1, generator=g, dtype=cr.float64)) for _ in range(3)]
    xv, yv = batches[0]
    mse = nn.functional.mse_loss

    def val(lr, optimizer="momentum"):
        new = meta.unroll(m, dict(m.named_parameters()), mse, batches, lr,
                          optimizer=optimizer)
        return mse(cr.func.functional_call(m, new, (xv,)), yv)

    lr = cr.tensor(0.3, dtype=cr.float64, requires_grad=True)
    (hyper,) = cr.autograd.grad(val(lr), [lr])
    eps = 1e-6
    fd = (val(0.3 + eps).item() - val(0.3 - eps).item()) / (2 * eps)
    assert abs(hyper.item() - fd) < 1e-6 * max(1.0, abs(fd))
    with pytest.raises(ArgumentError, match="Adam updates parameters in place under "
                                            "no_grad.*cannot be differentiated"):
        meta.unroll(m, dict(m.named_parameters()), mse, batches, 0.1,
                    optimizer=optim.Adam(m.parameters()))
    with pytest.raises(ArgumentError, match="must be one of"):
        meta.unroll(m, dict(m.named_parameters()), mse, batches, 0.1,
                    optimizer="lbfgs")


def test_hypergradient_lr_grows_a_too_small_rate():
    cr.manual_seed(0)
    m = nn.Linear(3, 1)
    g = cr.Generator().manual_seed(0)
    x = cr.randn(32, 3, generator=g)
    y = x @ cr.tensor([[1.0], [-2.0], [0.5]])
    h = meta.HypergradientLR(m, nn.functional.mse_loss, lr=1e-4, hyper_lr=0.2)
    for _ in range(30):
        h.step([(x[:16], y[:16]), (x[16:], y[16:])], (x, y))
    assert h.lr > 1e-2
    assert h.history[-1][1] < 0.5 * h.history[0][1]
