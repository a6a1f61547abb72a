"""Module system and containers, checked against torch.nn where it has them."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from tests.jvp_samples import S
from tests.oracle import assert_close

# hook_identity (ops/nn_ops.py) is checked against torch's backward hooks below.
TESTED_PRIMITIVES = {"hook_identity"}  # read by test_ops_registry.py
JVP_SAMPLES = {"hook_identity": S((3, 2), (4,), callback=lambda grads: None)}


def _state_from_torch(tmod):
    return {k: v.detach().numpy().copy() for k, v in tmod.state_dict().items()}


def _zoo(lib):
    """The same model built from torch.nn or chainrule.nn."""
    return lib.Sequential(OrderedDict([
        ("emb", lib.Embedding(10, 4, padding_idx=0)),
        ("flat", lib.Flatten()),
        ("fc1", lib.Linear(12, 8)),
        ("bn", lib.BatchNorm1d(8)),
        ("act", lib.GELU()),
        ("drop", lib.Dropout(0.25)),
        ("blocks", lib.ModuleList([lib.Linear(8, 8, bias=False), lib.LayerNorm(8)])),
        ("heads", lib.ModuleDict({"a": lib.Linear(8, 3), "b": lib.Softmax(dim=1)})),
        ("gn", lib.GroupNorm(2, 4)),
        ("pr", lib.PReLU(3)),
        ("un", lib.Unflatten(1, (2, 4))),
        ("bil", lib.Bilinear(2, 3, 4)),
        ("id", lib.Identity()),
    ]))


def test_state_dict_keys_shapes_and_order_match_torch():
    t, c = _zoo(torch.nn), _zoo(nn)
    tk = [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    ck = [(k, tuple(v.shape)) for k, v in c.state_dict().items()]
    assert ck == tk
    assert [k for k, _ in c.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert [k for k, _ in c.named_buffers()] == [k for k, _ in t.named_buffers()]
    assert [k for k, _ in c.named_modules()] == [k for k, _ in t.named_modules()]
    assert [k for k, _ in c.named_children()] == [k for k, _ in t.named_children()]
    c.load_state_dict(_state_from_torch(t))
    for k, v in c.state_dict().items():
        assert_close(v, t.state_dict()[k], what=k)


def test_load_torch_state_dict_directly_keeps_float64():
    t, c = _zoo(torch.nn).double(), _zoo(nn).double()
    c.load_state_dict(t.state_dict())  # torch tensors, not arrays
    for k, v in t.state_dict().items():
        assert_close(c.state_dict()[k], v, rtol=0, atol=0, what=k)
    assert c.fc1.weight.dtype == cr.float64 and isinstance(c.fc1.weight, nn.Parameter)


def test_repr_matches_torch():
    t, c = _zoo(torch.nn), _zoo(nn)
    assert repr(c) == repr(t)
    for tm, cm in [
        (torch.nn.ReLU(inplace=True), nn.ReLU(inplace=True)),
        (torch.nn.LeakyReLU(0.2), nn.LeakyReLU(0.2)),
        (torch.nn.ELU(), nn.ELU()),
        (torch.nn.Hardtanh(-2.0, 2.0), nn.Hardtanh(-2.0, 2.0)),
        (torch.nn.Softplus(2.0, 10.0), nn.Softplus(2.0, 10.0)),
        (torch.nn.Threshold(0.1, 20), nn.Threshold(0.1, 20)),
        (torch.nn.Dropout2d(0.3), nn.Dropout2d(0.3)),
        (torch.nn.BatchNorm2d(3, momentum=None), nn.BatchNorm2d(3, momentum=None)),
        (torch.nn.LayerNorm((2, 3), elementwise_affine=False),
         nn.LayerNorm((2, 3), elementwise_affine=False)),
        (torch.nn.Embedding(5, 2, max_norm=1.0), nn.Embedding(5, 2, max_norm=1.0)),
        (torch.nn.Sequential(), nn.Sequential()),
        (torch.nn.CrossEntropyLoss(), nn.CrossEntropyLoss()),
        (torch.nn.Hardshrink(0.3), nn.Hardshrink(0.3)),
        (torch.nn.GELU("tanh"), nn.GELU("tanh")),
        (torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [
            torch.nn.ReLU(), torch.nn.Sequential(torch.nn.ReLU())] * 2),
         nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] +
                       [nn.ReLU(), nn.Sequential(nn.ReLU())] * 2)),
        (torch.nn.ModuleList(), nn.ModuleList()),
    ]:
        assert repr(cm) == repr(tm)


def test_load_state_dict_reports_all_problems_together():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    before = m[0].weight.detach().numpy().copy()
    bad = {k: v.detach().numpy() for k, v in m.state_dict().items()}
    del bad["1.running_var"]
    bad["0.weight"] = np.zeros((5, 3), np.float32)
    bad["extra.weight"] = np.zeros(2, np.float32)
    with pytest.raises(cr.ShapeError) as e:
        m.load_state_dict(bad)
    msg = str(e.value)
    assert 'Missing key(s) in state_dict: "1.running_var"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert "size mismatch for 0.weight" in msg and "[5, 3]" in msg and "[2, 3]" in msg
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), before)  # untouched
    # strict=False still refuses wrong shapes but reports the key lists.
    bad["0.weight"] = np.ones((2, 3), np.float32)
    res = m.load_state_dict(bad, strict=False)
    assert res.missing_keys == ["1.running_var"]
    assert res.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), np.ones((2, 3)))


def test_error_names_the_layer_attribute_expected_and_given_features():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 3)
            self.fc2 = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc2(self.fc1(x))

    net = Net()
    with pytest.raises(cr.ShapeError) as e:
        net(cr.randn(2, 5))
    msg = str(e.value)
    assert msg.startswith("in fc1 (Linear):")
    assert "in_features=4" in msg and "[2, 5]" in msg and "5 features" in msg

    outer = nn.Sequential(OrderedDict([("encoder", Net())]))
    with pytest.raises(cr.ShapeError, match=r"^in encoder\.fc1 \(Linear\): "):
        outer(cr.randn(7, 6))
    with pytest.raises(cr.ShapeError, match=r"^in 1 \(Linear\): .*in_features=4"):
        nn.Sequential(nn.Linear(2, 5), nn.Linear(4, 1))(cr.randn(3, 2))
    # A layer called on its own keeps the plain message.
    with pytest.raises(cr.ShapeError, match=r"^Linear expects input"):
        nn.Linear(4, 3)(cr.randn(3))


def test_forward_hooks():
    lin = nn.Linear(3, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: out + 1)
    h3 = lin.register_forward_hook(lambda m, args, out: calls.append("first"),
                                   prepend=True)
    x = cr.randn(4, 3)
    y = lin(x)
    assert calls == ["first"]
    assert_close(y, (lin.bias + 1).expand(4, 2))
    h1.remove(), h2.remove(), h3.remove()
    assert_close(lin(x), x @ lin.weight.T + lin.bias)

    def kw_pre(m, args, kwargs):
        return (args[0] * 2,), kwargs

    lin.register_forward_pre_hook(kw_pre, with_kwargs=True)
    seen = []
    lin.register_forward_hook(lambda m, a, k, o: seen.append(k), with_kwargs=True)
    assert_close(lin(x), (x * 2) @ lin.weight.T + lin.bias)
    assert seen == [{}]


def test_backward_hooks_match_torch():
    def run(lib, tensor):
        torch.manual_seed(0)
        lin = torch.nn.Linear(3, 2)
        m = lib.Linear(3, 2)
        if lib is nn:
            m.load_state_dict(lin.state_dict())
        else:
            m = lin
        seen = []
        m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 2,))
        m.register_full_backward_hook(
            lambda mod, gi, go: seen.append((gi[0].detach().numpy().copy(),
                                             go[0].detach().numpy().copy())))
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0] + 1,))
        x = tensor(np.arange(12.0, dtype=np.float32).reshape(4, 3), requires_grad=True)
        (m(x) ** 2).sum().backward()
        return seen, x.grad.numpy(), m.weight.grad.numpy()

    cs, cgx, cgw = run(nn, cr.tensor)
    ts, tgx, tgw = run(torch.nn, torch.tensor)
    assert len(cs) == len(ts) == 1
    assert_close(cs[0][0], ts[0][0], what="grad_input")
    assert_close(cs[0][1], ts[0][1], what="grad_output (doubled by the pre-hook)")
    assert_close(cgx, tgx, what="input grad (+1 from the hook)")
    assert_close(cgw, tgw, what="weight grad")

    # An input that needs no gradient: the hook still runs, with None for it.
    lin, calls = nn.Linear(3, 1), []
    h = lin.register_full_backward_hook(lambda m, gi, go: calls.append(gi))
    lin(cr.randn(2, 3)).sum().backward()
    assert calls == [(None,)]
    h.remove()
    lin(cr.randn(2, 3)).sum().backward()
    assert len(calls) == 1


def test_modes_zero_grad_apply_and_dtype():
    m = _zoo(nn)
    m.eval()
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    m.fc1.weight.grad = cr.ones(8, 12)
    m.zero_grad()
    assert m.fc1.weight.grad is None
    m.fc1.weight.grad = cr.ones(8, 12)
    m.zero_grad(set_to_none=False)
    assert_close(m.fc1.weight.grad, np.zeros((8, 12), np.float32))
    seen = []
    m.apply(lambda x: seen.append(type(x).__name__))
    assert seen[-1] == "Sequential" and seen[0] == "Embedding"
    m.double()
    assert all(p.dtype == cr.float64 for p in m.parameters())
    assert m.bn.num_batches_tracked.dtype == cr.int64
    m.to(cr.float32)
    assert all(p.dtype == cr.float32 for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    assert m.to("cpu") is m and m.cpu() is m
    with pytest.raises(cr.ArgumentError, match="runs on the CPU"):
        m.cuda()
    with pytest.raises(cr.ArgumentError, match="'cuda:0' is not available"):
        m.to("cuda:0")
    with pytest.raises(cr.DTypeError, match="float16 is not supported"):
        m.half()
    with pytest.raises(AttributeError, match="before Module.__init__"):
        class Bad(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(cr.zeros(1))
        Bad()


def test_sequential_indexing_slicing_and_editing_match_torch():
    def build(lib):
        return lib.Sequential(OrderedDict([("a", lib.Linear(2, 3)), ("b", lib.ReLU()),
                                           ("c", lib.Linear(3, 4)), ("d", lib.Tanh())]))

    t, c = build(torch.nn), build(nn)
    assert len(c) == 4
    assert type(c[-1]).__name__ == "Tanh" and c[0] is c.a
    assert list(dict(c[1:3].named_children())) == list(dict(t[1:3].named_children()))
    for lib, s in ((torch.nn, t), (nn, c)):
        del s[1]  # renumbers even named children, as torch does
        s.append(lib.Sigmoid())
        s.insert(1, lib.Identity())
        s.insert(-1, lib.ReLU())
        s.pop(0)
    assert [k for k, _ in c.named_children()] == [k for k, _ in t.named_children()]
    assert [type(m).__name__ for m in c] == [type(m).__name__ for m in t]
    c[0] = nn.Identity()
    assert isinstance(c[0], nn.Identity)
    with pytest.raises(IndexError, match="out of range"):
        c[10]
    x = cr.randn(5, 2)
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU()) + nn.Sequential(nn.Linear(3, 1))
    assert seq(x).shape == (5, 1) and len(seq) == 3


def test_modulelist_moduledict_parameterlist_parameterdict():
    tl = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])
    cl = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    for lib, lst in ((torch.nn, tl), (nn, cl)):
        lst.append(lib.Linear(2, 1))
        lst.insert(1, lib.ReLU())
        lst += [lib.Tanh()]
        del lst[0]
    assert list(cl.state_dict()) == list(tl.state_dict())
    assert [type(m).__name__ for m in cl] == [type(m).__name__ for m in tl]
    assert len(cl[1:3]) == 2 and isinstance(cl[-1], nn.Tanh)

    cd = nn.ModuleDict({"x": nn.Linear(1, 1)})
    cd.update([("y", nn.ReLU())])
    cd["z"] = nn.Linear(2, 2)
    assert list(cd.keys()) == ["x", "y", "z"] and "y" in cd and len(cd) == 3
    assert list(cd.state_dict()) == ["x.weight", "x.bias", "z.weight", "z.bias"]
    cd.pop("x")
    assert list(cd) == ["y", "z"]

    tp = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2)) for _ in range(2)])
    cp = nn.ParameterList([nn.Parameter(cr.zeros(2)) for _ in range(2)])
    cp.append(cr.ones(3))
    tp.append(torch.ones(3))
    assert list(cp.state_dict()) == list(tp.state_dict())
    assert isinstance(cp[2], nn.Parameter) and cp[2].requires_grad
    pd = nn.ParameterDict({"a": nn.Parameter(cr.zeros(1)), "b": cr.ones(2)})
    assert list(pd.state_dict()) == ["a", "b"] and isinstance(pd["b"], nn.Parameter)


def test_flatten_unflatten_identity_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    for args in [(), (0,), (1, 2), (2, -1)]:
        assert_close(nn.Flatten(*args)(cr.tensor(x)), torch.nn.Flatten(*args)(
            torch.from_numpy(x)))
    assert_close(nn.Unflatten(2, (2, 2))(cr.tensor(x)),
                 torch.nn.Unflatten(2, (2, 2))(torch.from_numpy(x)))
    xi = cr.tensor(x)
    assert nn.Identity(3, foo=1)(xi) is xi


def test_summary_table_and_totals():
    model = nn.Sequential(nn.Linear(784, 128), nn.BatchNorm1d(128), nn.ReLU(),
                          nn.Sequential(nn.Dropout(0.2), nn.Linear(128, 10)))
    model[0].weight.requires_grad_(False)
    tmodel = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.BatchNorm1d(128),
                                 torch.nn.ReLU(), torch.nn.Sequential(
                                     torch.nn.Dropout(0.2), torch.nn.Linear(128, 10)))
    printed = []
    model.train()
    before = model[1].running_mean.detach().numpy().copy()
    s = nn.summary(model, (32, 784), print_fn=printed.append)
    assert s.total_params == sum(p.numel() for p in tmodel.parameters())
    assert s.trainable_params == s.total_params - 784 * 128
    assert [r[:3] for r in s.rows] == [
        ("0", "Linear", "[32, 128]"), ("1", "BatchNorm1d", "[32, 128]"),
        ("2", "ReLU", "[32, 128]"), ("3.0", "Dropout", "[32, 128]"),
        ("3.1", "Linear", "[32, 10]")]
    assert [r[3] for r in s.rows] == [100480, 256, 0, 0, 1290]
    text = printed[0]
    assert "3.1 (Linear)" in text and "Total params: 102,026" in text
    assert "Non-trainable params: 100,352" in text
    # The dummy pass changes nothing: mode and running statistics are kept.
    assert model.training and model[3][0].training
    np.testing.assert_array_equal(model[1].running_mean.detach().numpy(), before)
    emb = nn.Sequential(nn.Embedding(100, 8), nn.Flatten(), nn.Linear(40, 2))
    s2 = nn.summary(emb, (4, 5), dtypes=cr.int64, print_fn=None)
    assert s2.rows[0][2] == "[4, 5, 8]" and s2.total_params == 800 + 82
    with pytest.raises(cr.ArgumentError, match="input_shape"):
        nn.summary(emb)
