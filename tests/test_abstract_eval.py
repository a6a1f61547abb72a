"""Abstract evaluation and declared metadata of every primitive.

The check is itself an interpreter: while the op table's rows run (forward
and backward, float64 and the rows' own dtypes) and a direct case drives the
primitives no row reaches (a training step with conv, pooling, LSTM, layer
norm and Adam; custom Functions; random draws; collectives), it compares each
call's outputs with what ``abstract_eval`` predicts from the inputs alone,
rejects params the primitive does not declare, and checks ``n_out``.  The
registry test names any primitive missing a kind, a rule or its params.
"""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn  # noqa: F401  (layers may register primitives)
from chainrule._tape import Interpreter, interpreting
from chainrule.errors import DataDependentShape
from chainrule.ops._core import KINDS, abstract_eval, abstract_rule, out_count
from tests.op_db import OPS, grads, materialize, run, weighted_sum, weights
from tests.test_ops_registry import _all_primitives


class AbstractChecker(Interpreter):
    """Compares every call's eager outputs with the abstract rule's, and
    checks that the call passes only declared params and returns as many
    outputs as ``out_count`` says."""

    def __init__(self):
        self.checked, self.data_dependent, self.mismatches = set(), set(), []

    def observe(self, prim, inputs, params, outs):
        avals = [(t.shape, t._data.dtype) for t in inputs]
        n = out_count(prim, len(inputs), params)
        if n != len(outs):
            self.mismatches.append(f"{prim.name}: n_out {n}, eager {len(outs)}")
        try:
            want = abstract_eval(prim, avals, params)
        except DataDependentShape:
            self.data_dependent.add(prim.name)
            return
        except Exception as e:  # noqa: BLE001 (reported with the call)
            self.mismatches.append(f"{prim.name}{avals} {sorted(params)}: {e!r}")
            return
        got = tuple((tuple(o.shape), o._data.dtype) for o in outs)
        self.checked.add(prim.name)
        if want != got:
            self.mismatches.append(f"{prim.name}{avals}: abstract {want}, eager {got}")


def _run_table(dtype_for):
    checker = AbstractChecker()
    with interpreting(checker):
        for op in OPS:
            for k, sample in enumerate(op.samples):
                arrays, diff = materialize(op, sample, dtype_for(op), seed=k)
                diff = [d and op.grad for d in diff]
                xs, out = run(cr, op, arrays, diff)
                if any(diff):
                    loss, _ = weighted_sum(cr, out, weights(out, k))
                    grads(cr, loss, [x for x, d in zip(xs, diff) if d])
    return checker


@pytest.mark.parametrize("where", ["float64", "own dtypes"])
def test_abstract_rules_agree_with_eager_on_every_op_table_row(where):
    checker = _run_table(
        lambda op: np.float64 if where == "float64" and op.floating else None)
    assert not checker.mismatches, "\n".join(checker.mismatches[:20])
    assert len(checker.checked) >= 60  # the elementwise families at least


class _SelfComm:
    """A one-process communicator: what each collective asks of mpi4py's."""

    def Get_size(self):
        return 1

    def Allreduce(self, send, buf, op):
        pass

    def Bcast(self, buf, root):
        pass

    def Allgather(self, x, out):
        out[0] = x

    def Reduce_scatter_block(self, x, out, op):
        out[...] = x[0]

    def Iallreduce(self, send, buf, op):
        return self

    def Wait(self):
        pass


class _Work:
    request = None


class _Exp(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved_tensors[0]


class _SplitFn(cr.autograd.Function):
    """Two outputs: a multi-output variant of the custom-function primitive."""

    @staticmethod
    def forward(ctx, x):
        return x * 2, x.sum()

    @staticmethod
    def backward(ctx, g1, g2):
        return g1 * 2 + g2


class _Net(cr.nn.Module):
    """Every layer whose primitives the op tables do not reach."""

    def __init__(self):
        super().__init__()
        nn = cr.nn
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.norm = nn.LayerNorm(12)
        self.lstm = nn.LSTM(12, 5)
        self.head = nn.Linear(5, 4)

    def forward(self, x):
        F = cr.nn.functional
        y = self.pool(self.conv(x))  # (2, 3, 2, 2)
        y = y + F.adaptive_max_pool2d(y, 2)
        y = self.norm(y.reshape(2, 12))
        out, _ = self.lstm(y.reshape(2, 1, 12))
        return F.log_softmax(self.head(out.reshape(2, 5)), -1)


def _direct_cases(monkeypatch):
    """A training step of a small network with Adam (conv, pooling, layer
    norm, LSTM, linear, losses, hooks, the fused optimizer step), custom
    Functions, unfold/fold, random draws and the collectives on a
    one-process communicator: the primitives no op-table row reaches."""
    from chainrule.ops import collective

    monkeypatch.setattr(collective, "_IN_PLACE", lambda: None)
    F = cr.nn.functional
    g = cr.Generator().manual_seed(0)
    net = _Net()
    net.lstm.register_full_backward_hook(lambda m, gi, go: None)
    opt = cr.optim.Adam(net.parameters(), lr=1e-3)
    x = cr.randn(2, 2, 4, 4, generator=g)
    target = cr.tensor([1, 3])
    loss = F.nll_loss(net(x), target) + F.cross_entropy(
        net(x).softmax(-1), target, reduction="none").sum()
    loss.backward()
    opt.step()
    cols = F.unfold(x.requires_grad_(), 2)
    F.fold(cols, (4, 4), 2).sum().backward()
    a = cr.rand(3, generator=g, requires_grad=True)
    (_Exp.apply(a) + _SplitFn.apply(a)[1]).sum().backward()
    cr.randint(0, 5, (3,), generator=g), cr.randperm(4, generator=g)
    conc = (cr.rand(3, generator=g) + 1).requires_grad_()
    cr.distributions.Gamma(conc, 1.0).rsample().sum().backward()
    cr.poisson(cr.ones(3) * 2, generator=g)
    comm, t = _SelfComm(), cr.ones(2, 3)
    collective.all_reduce_(t, comm=comm, op=None, average=True)
    collective.broadcast_(t, comm=comm, src=0)
    collective.reduce_scatter(collective.all_gather(t, comm=comm), comm=comm, op=None)
    work = _Work()
    collective.start_all_reduce_(t, comm=comm, op=None, work=work)
    collective.wait_collective_(t, work=work, average=True, size=1)
    cr.bernoulli(cr.rand(3, generator=g), generator=g)  # the threshold kernel
    F.nll_loss(cr.randn(3, 4).log_softmax(-1), cr.tensor([0, 3, -100]),
               weight=cr.ones(4))  # the slow path's target check
    t.data = cr.zeros(2, 3)  # set_data


@pytest.mark.parametrize("name", ["W3", "W5"])
def test_benchmark_training_steps_pass_only_declared_params(name):
    """A full training step (forward, backward, Adam) of the CNN and the
    transformer benchmark models: every call's params are declared and every
    rule agrees with the eager outputs."""
    from benchmarks.runner import training_step
    from benchmarks.workloads import WORKLOADS

    w = [w for w in WORKLOADS if w.name == name][0]
    x, y = w.batch(np.random.default_rng(0))
    cr.manual_seed(0)
    step = training_step(cr, w, w.build(cr))
    checker = AbstractChecker()
    with interpreting(checker):
        step(cr.from_numpy(x), cr.from_numpy(y))
    assert not checker.mismatches, "\n".join(checker.mismatches[:20])
    assert {"adam_step", "matmul"} <= checker.checked


def test_every_primitive_is_checked_by_the_op_tables_or_a_direct_case(monkeypatch):
    """The abstract rule, the declared params and n_out of every primitive in
    the table meet at least one eager call (data-dependent ones must say so)."""
    checker = _run_table(lambda op: np.float64 if op.floating else None)
    with interpreting(checker):
        _direct_cases(monkeypatch)
    assert not checker.mismatches, "\n".join(checker.mismatches[:20])
    unchecked = sorted(set(_all_primitives()) - checker.checked
                       - checker.data_dependent)
    assert not unchecked, f"primitives no op-table row or direct case reaches: " \
                          f"{unchecked}"
    assert checker.data_dependent == {"nonzero", "getitem"}


def test_registry_names_primitives_missing_a_kind_rule_or_params():
    table = _all_primitives()
    for what, bad in [
        ("a kind", [n for n, p in table.items() if p.kind not in KINDS]),
        ("an abstract-evaluation rule",
         [n for n, p in table.items() if abstract_rule(p) is None]),
        ("a params=(...) declaration",
         [n for n, p in table.items() if p.params is None]),
        ("a real n_out (an int or a rule of the params)",
         [n for n, p in table.items()
          if not (callable(p.n_out) or (type(p.n_out) is int and p.n_out >= 1))]),
    ]:
        assert not bad, f"primitives without {what}: {sorted(bad)}"


def test_abstract_eval_rejects_undeclared_params_and_names_a_missing_rule():
    from chainrule.errors import ChainruleError
    from chainrule.ops._core import Primitive

    s = cr.ops.PRIMITIVES["sum"]
    with pytest.raises(ChainruleError, match=r"sum: called with undeclared params "
                                             r"\['dim'\]; it declares \['axis', "
                                             r"'keepdim'\]"):
        abstract_eval(s, [((2, 3), np.float32)], {"dim": 0, "keepdim": False})
    p = Primitive("made_up", None, None, None, (), False, 1, False, False,
                  kind="linalg", params=())
    with pytest.raises(NotImplementedError, match="made_up: no abstract-evaluation"):
        abstract_eval(p, [((2, 3), np.float32)], {})
    two = Primitive("made_up2", None, None, None, (), False, 2, False, False,
                    kind="unary", params=())
    with pytest.raises(ChainruleError, match="made_up2: the abstract rule gives 1 "
                                             "outputs where n_out says 2"):
        abstract_eval(two, [((2, 3), np.float32)], {})


def test_data_dependent_shapes_say_so():
    nz = cr.ops.PRIMITIVES["nonzero"]
    with pytest.raises(DataDependentShape, match="nonzero: .*depends on data"):
        abstract_eval(nz, [((3, 4), np.float32)], {})
    gi = cr.ops.PRIMITIVES["getitem"]
    mask = np.array([True, False, True])
    with pytest.raises(DataDependentShape, match="getitem: a boolean-mask index"):
        abstract_eval(gi, [((3, 2), np.float32)], {"index": (mask,)})
    # an integer-array index is static: its shape is known
    assert abstract_eval(gi, [((3, 2), np.float32)],
                         {"index": (np.array([0, 2, 2, 1]),)}) == (
        ((4, 2), np.dtype(np.float32)),)


def test_n_out_rules_follow_the_params():
    from chainrule.ops._core import out_count

    P = cr.ops.PRIMITIVES
    assert out_count(P["split_copy"], 1, {"axis": 0, "sizes": (1, 2, 3),
                                          "squeeze": False}) == 3
    assert out_count(P["hook_identity"], 4, {"callback": None}) == 4
    assert out_count(P["layer_norm_backward"], 2, {"k": 1, "eps": 1e-5}) == 1
    assert out_count(P["layer_norm_backward"], 3, {"k": 1, "eps": 1e-5}) == 3
    assert out_count(P["svd"], 1, {"full_matrices": True}) == 3
    # one piece is still a tuple: a primitive with an n_out rule always returns one
    pieces = cr.ops.shape.split_copy(cr.ones(2, 3), 3, dim=1)
    assert isinstance(pieces, tuple) and len(pieces) == 1


def test_kind_rules_broadcast_and_promote():
    add = cr.ops.PRIMITIVES["add"]
    assert abstract_eval(add, [((2, 1), np.float32), ((3,), np.float32)], {}) == (
        ((2, 3), np.dtype(np.float32)),)
    lt = cr.ops.PRIMITIVES["lt"]
    assert abstract_eval(lt, [((4,), np.int64), ((1,), np.int64)], {}) == (
        ((4,), np.dtype(bool)),)


def test_every_primitive_registers_at_import_chainrule():
    import subprocess
    import sys

    code = ("import chainrule, sys; from chainrule.ops import PRIMITIVES; "
            "print(' '.join(sorted(PRIMITIVES)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout.split()
    assert sorted(_all_primitives()) == out
