"""No computation escapes the primitive table.

Two training steps of every benchmark workload model, the bundled examples'
models (dp_sgd's functional private step with vmap per-example gradients and
its own noise generator; nngp_wide's random networks and NNGP regression
inside the step), and a BatchNorm + dropout network under every optimizer and LR
scheduler are recorded primitive by primitive (``tests/replay_record.py``)
and replayed in NumPy on fresh copies of the parameters, buffers, optimizer
state and generator state; the replay must end bit-identical.  An array that
changed without a primitive writing it fails the test, naming the tensor.
The same steps are recorded a second time from a perturbed state: a constant
input or parameter that differs between the two records was computed from
tensor data outside the table (or read to the host).

LBFGS and CG (glm's and the GP's fit) are recorded and replayed too, but the
perturbed-state comparison does not apply to them: their iteration counts,
curvature and restart tests and line searches branch on loss and gradient
values by design (as PyTorch's LBFGS does), and their step sizes are host
floats; see ``CLOSURE_OPTIMIZERS``.
"""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from benchmarks import workloads as W
from chainrule import nn, optim, text
from chainrule._tape import interpreting
from tests.replay_record import Record, compare_runs, replay

ROOT = Path(__file__).resolve().parents[1]

# The primitives that closed escapes and have no gradient: writes (autograd
# records the out-of-place twin), boolean or integer results,
# bernoulli's threshold (its samples have no gradient, as in PyTorch), and
# the integer index check.
NON_DIFFERENTIABLE_PRIMITIVES = {"store", "set_data", "isclose", "array_equal",
                                 "cum_arg", "bernoulli_threshold", "index_in_range"}
F = nn.functional


def _example(name):
    mod = sys.modules.get(f"_ex_{name}")
    if mod is None:
        spec = importlib.util.spec_from_file_location(f"_ex_{name}",
                                                      ROOT / "examples" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
    return mod


def _classify(model, shape, n_classes=10, batch=4, log_probs=False):
    g = np.random.default_rng(0)
    x = cr.tensor(g.standard_normal((batch,) + shape).astype(np.float32))
    y = cr.tensor(g.integers(0, n_classes, batch))
    loss = F.nll_loss if log_probs else F.cross_entropy
    return model, lambda: loss(model(x), y)


def _tokens(model, vocab, batch=2, seq=6, batch_first=True):
    g = np.random.default_rng(0)
    shape = (batch, seq) if batch_first else (seq, batch)
    x, y = cr.tensor(g.integers(0, vocab, shape)), cr.tensor(g.integers(0, vocab,
                                                                         shape))

    def loss():
        out = model(x)
        out = out[0] if isinstance(out, tuple) else out
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return model, loss


def _mlp_bn(momentum=0.1):
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8, momentum=momentum),
                         nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 3))


def _word_lm():
    model = W.build_word_lm(cr, vocab=30, size=8, layers=2, dropout=0.2)
    g = np.random.default_rng(0)
    x, y = cr.tensor(g.integers(0, 30, (5, 2))), cr.tensor(g.integers(0, 30, (5, 2)))
    state = {"hidden": model.init_hidden(2)}
    model._carried = state  # the hidden state carried between steps is state too

    def loss():
        hidden = tuple(h.detach() for h in state["hidden"])
        out, state["hidden"] = model(x, hidden)
        return F.nll_loss(F.log_softmax(out, dim=1), y.reshape(-1))
    return model, loss


def _seq2seq(model, vocab=12):
    g = np.random.default_rng(0)
    src = cr.tensor(g.integers(1, vocab, (2, 5)))
    tgt = cr.tensor(g.integers(1, vocab, (2, 4)))

    def loss():
        out = model(src, tgt[:, :-1])
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), tgt[:, 1:].reshape(-1))
    return model, loss


class _Xor(nn.Module):
    """examples/xor.py's network, as parameters of a module."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(cr.randn(2, 8))
        self.b1 = nn.Parameter(cr.zeros(8))
        self.w2 = nn.Parameter(cr.randn(8, 1) * 0.5)
        self.b2 = nn.Parameter(cr.zeros(1))

    def forward(self, x):
        return cr.sigmoid(cr.tanh(x @ self.w1 + self.b1) @ self.w2 + self.b2)


def _xor():
    model = _Xor()
    x = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = cr.tensor([[0.0], [1.0], [1.0], [0.0]])
    return model, lambda: F.binary_cross_entropy(model(x), y)


def _sine():
    model = _example("maml_sine").SineNet()
    x = cr.linspace(-5, 5, 10).reshape(10, 1)
    return model, lambda: F.mse_loss(model(x), cr.sin(x))


def _gp():
    """examples/gp_diabetes.py's model: a GP's negative log marginal
    likelihood (the fused Cholesky and kernel primitives), float64."""
    g = cr.Generator().manual_seed(0)
    x = cr.randn(12, 3, generator=g, dtype=cr.float64)
    y = cr.randn(12, generator=g, dtype=cr.float64)
    model = cr.gp.GPRegression(cr.gp.RBF(lengthscale=1.0, variance=1.0)
                               + cr.gp.White(0.5), noise=0.1)
    return model, lambda: -model.log_marginal_likelihood(x, y)


def _bayes_gap():
    """examples/bayes_regression_gap.py's model: BayesLinear layers with the
    local reparameterisation trick (random draws), trained by the ELBO."""
    bayes = cr.bayes
    model = nn.Sequential(bayes.BayesLinear(1, 8, local_reparam=True), nn.Tanh(),
                          bayes.BayesLinear(8, 1, local_reparam=True))
    x = cr.linspace(-2, 2, 10).reshape(10, 1)
    return model, lambda: bayes.elbo(model, F.mse_loss(model(x), cr.sin(x)), 10)


def _autobatched(name, cls, make_examples):
    """An autobatch example's model: its per-example loss over a list of
    examples, grouped and run batched (so the batched calls are replayed)."""
    mod = _example(name)
    model = getattr(mod, cls)()
    rng = np.random.default_rng(0)
    examples = make_examples(mod, rng)
    batched = cr.func.autobatch(model.loss)
    return model, lambda: sum(batched(examples)) / len(examples)


def _nngp():
    """examples/nngp_wide.py: random ReLU networks drawn from the generator,
    the NNGP kernel, NNGP regression's posterior (a Cholesky and two
    triangular solves), and the finite float64 network it is compared with,
    trained.  The GP has no trainable hyper-parameters; its computation runs
    inside the step so that every call of it is replayed and compared."""
    mod = _example("nngp_wide")
    net = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                        nn.Linear(16, 1)).to(cr.float64)
    x = cr.linspace(-3, 3, 10, dtype=cr.float64).reshape(-1, 1)
    data = cr.Generator().manual_seed(0)  # the same data in both records
    y = cr.sin(2 * x).reshape(-1) + 0.05 * cr.randn(10, generator=data,
                                                    dtype=cr.float64)
    xt = cr.linspace(-2.9, 2.9, 7, dtype=cr.float64).reshape(-1, 1)

    def loss():
        mod.networks(xt, 8, 5, cr.random.default_generator)
        cr.gp.NNGP(depth=1, weight_var=mod.WV, bias_var=mod.BV)(xt)
        gp = cr.gp.GPRegression(cr.gp.NNGP(depth=2, weight_var=mod.WV,
                                            bias_var=mod.BV),
                                noise=0.0025, learn_noise=False).fit(x, y, steps=0)
        gp.predict(xt, return_std=True)
        return ((net(x).reshape(-1) - y) ** 2).mean()
    return net, loss


def _caption():
    """examples/caption_digits.py's captioner: a CNN encoder and an LSTM
    decoder with additive attention, teacher-forced, padded sequence loss."""
    mod = _example("caption_digits")
    model = mod.Captioner()
    g = np.random.default_rng(0)
    x, y = mod.make_strips(g.random((6, 8, 8)).astype(np.float32), np.arange(6),
                           2, g)
    return model, lambda: text.sequence_loss(model(x, y), y, pad_id=mod.PAD)


def _digits_mlp():
    """examples/digits_mlp.py's network (Linear, ReLU, Dropout) under its SGD."""
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(128, 10))
    return _classify(model, (64,))


def _glm():
    """examples/glm.py's objective: a float64 Linear layer, Poisson negative
    log-likelihood on a log link plus an L2 penalty on the weights."""
    g = np.random.default_rng(0)
    x = cr.tensor(g.standard_normal((20, 4)))
    y = cr.tensor(g.poisson(np.exp(x.numpy() @ [0.5, -0.3, 0.2, 0.0] + 1.0))
                  .astype(np.float64).reshape(-1, 1))
    layer = nn.Linear(4, 1, dtype=cr.float64)
    return layer, lambda: (F.poisson_nll_loss(layer(x), y)
                           + 0.01 / 2 * (layer.weight ** 2).sum())


def _tagger_examples(mod, rng):
    return [mod.sentence(rng) for _ in range(3)]


def _tree_examples(mod, rng):
    trees = [mod.expression(rng, k) for k in (1, 2, 3)]
    return [(t, cr.tensor(v)) for t, v in trees]


MODELS = {
    "bilstm_tagger": lambda: _autobatched("bilstm_tagger", "Tagger",
                                          _tagger_examples),
    "tree_lstm": lambda: _autobatched("tree_lstm", "TreeLSTM", _tree_examples),
    "gp_diabetes": _gp,
    "glm": _glm,
    "nngp_wide": _nngp,
    "caption_digits": _caption,
    "digits_mlp": _digits_mlp,
    "bayes_regression_gap": _bayes_gap,
    "W1": lambda: _classify(W._mlp(cr, [32, 16, 16, 10]), (32,)),
    "W2": lambda: _classify(W._mlp(cr, [40, 100, 100, 10]), (40,)),
    "W3": lambda: _classify(W.build_cnn(cr), (1, 28, 28), batch=2),
    "W4": lambda: _tokens(W.build_lstm_lm(cr, vocab=20, emb=8, hidden=12), 20),
    "W5": lambda: _tokens(W.build_transformer_lm(cr, vocab=20, d=16, heads=2, ff=32,
                                                 seq=6), 20),
    "W6": _word_lm,
    "digits_cnn": lambda: _classify(_example("digits_cnn").convnet(), (1, 8, 8),
                                    log_probs=True),
    "distributed_digits": lambda: _classify(_example("distributed_digits").convnet(),
                                            (1, 8, 8)),
    "digits_uncertainty": lambda: _classify(_example("digits_uncertainty").cnn(0.2),
                                            (1, 8, 8)),
    "lottery_digits": lambda: _classify(_example("lottery_digits").mlp(), (64,)),
    "regularization": lambda: _classify(_example("regularization").mlp(0.3), (64,)),
    "transfer_mnist1d": lambda: _classify(_example("transfer_mnist1d").convnet(),
                                          (1, 40), n_classes=5),
    "char_lm_lstm": lambda: _tokens(text.RNNLanguageModel(
        20, 8, 8, cell="lstm", dropout=0.1, tie_weights=True), 20, batch_first=False),
    "char_lm_transformer": lambda: _tokens(text.TransformerLanguageModel(
        20, d_model=16, nhead=2, num_layers=1, max_len=6, dropout=0.1), 20),
    "digits_uncertainty_bayes": lambda: _classify(
        _example("digits_uncertainty").bayes_cnn(), (1, 8, 8)),
    "tune_digits": lambda: _classify(_example("tune_digits").build(
        {"width": 16, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9,
         "weight_decay": 1e-3})[0], (64,)),
    "maml_sine": _sine,
    "xor": _xor,
    "translate_dates_rnn": lambda: _seq2seq(text.AttentionSeq2Seq(
        12, 12, embed_dim=8, hidden_size=8, attention="additive", cell="lstm")),
    "translate_dates_transformer": lambda: _seq2seq(text.TransformerSeq2Seq(
        12, 12, d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
        dim_feedforward=16, dropout=0.1)),
    "batchnorm_dropout": lambda: _classify(_mlp_bn(), (6,), n_classes=3),
    "batchnorm_cumulative": lambda: _classify(_mlp_bn(None), (6,), n_classes=3),
}

OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                               weight_decay=1e-2),
    "Adam": lambda p: optim.Adam(p, lr=1e-2, amsgrad=True),
    "AdamW": lambda p: optim.AdamW(p, lr=1e-2, weight_decay=0.1),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=1e-2),
    "Adadelta": lambda p: optim.Adadelta(p, weight_decay=1e-2),
    "Adamax": lambda p: optim.Adamax(p, weight_decay=1e-2),
    "NAdam": lambda p: optim.NAdam(p, weight_decay=1e-2),
    "RMSprop": lambda p: optim.RMSprop(p, momentum=0.5, centered=True),
}

# The closure-driven optimizers: ``step(closure)`` evaluates the loss several
# times.  Their control flow reads the loss and gradients on the host by
# design, as PyTorch's LBFGS does: how many iterations and closure calls a
# step makes (stopping tests on max|g|, max|t d| and the loss change), whether
# a curvature pair enters L-BFGS's history (y.s > 1e-10), CG's restart test
# (g.d >= 0), and every branch of the strong-Wolfe line search; the step
# sizes (the line search's cubic interpolation) and the two-loop recursion's
# coefficients are host floats that enter the update as scalar arguments.
# No fixed sequence of primitives exists for such a step, so the perturbed-
# state comparison (``compare_runs``) does not apply to them.  What is
# checked is the rest: every array change goes through a primitive (no
# escape), and replaying the record on fresh copies of the state -- with the
# host-derived scalars as the recorded constants and params they are -- ends
# bit-identical, history included.
CLOSURE_OPTIMIZERS = {
    "LBFGS": lambda p: optim.LBFGS(p, max_iter=4, history_size=2),
    "LBFGS-strong_wolfe": lambda p: optim.LBFGS(p, max_iter=4, history_size=2,
                                                line_search_fn="strong_wolfe"),
    "CG": lambda p: optim.CG(p, max_iter=4, restart=3),
}

S = optim.lr_scheduler
SCHEDULERS = {
    "LambdaLR": lambda o: S.LambdaLR(o, lambda e: 0.9 ** e),
    "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, lambda e: 0.9),
    "StepLR": lambda o: S.StepLR(o, 1, gamma=0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, [1, 2]),
    "ConstantLR": lambda o: S.ConstantLR(o, factor=0.5, total_iters=2),
    "LinearLR": lambda o: S.LinearLR(o, total_iters=3),
    "ExponentialLR": lambda o: S.ExponentialLR(o, 0.9),
    "InverseTimeLR": lambda o: S.InverseTimeLR(o, 0.5),
    "PolynomialLR": lambda o: S.PolynomialLR(o, total_iters=4),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, 4),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, 2),
    "CyclicLR": lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=2),
    "OneCycleLR": lambda o: S.OneCycleLR(o, 0.1, total_steps=10),
    "SequentialLR": lambda o: S.SequentialLR(
        o, [S.ConstantLR(o, 0.5, total_iters=1), S.ExponentialLR(o, 0.9)],
        milestones=[1]),
    "ChainedScheduler": lambda o: S.ChainedScheduler(
        [S.ConstantLR(o, 0.5, total_iters=2), S.ExponentialLR(o, 0.9)]),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, patience=0),
}


CLIP = {"W6": 0.25, "caption_digits": 5.0}  # the max grad norm they train with


def _setup(model_name, opt_name, sched_name, seed):
    """After one warm-up step (so the optimizer has state): a function giving
    the state (name -> tensor), the step to record and the generators."""
    cr.manual_seed(seed)
    if model_name in FUNCTIONAL:
        return FUNCTIONAL[model_name]()
    model, loss_fn = MODELS[model_name]()
    model.train()
    if opt_name in CLOSURE_OPTIMIZERS:
        opt = CLOSURE_OPTIMIZERS[opt_name](model.parameters())
    else:
        opt = OPTIMIZERS[opt_name](model.parameters())
    sched = SCHEDULERS[sched_name](opt) if sched_name else None

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        if model_name in CLIP:
            nn.utils.clip_grad_norm_(model.parameters(), CLIP[model_name])
        return loss

    def step():
        if opt_name in CLOSURE_OPTIMIZERS:
            loss = opt.step(closure)
        else:
            loss = closure()
            opt.step()
        if isinstance(sched, S.ReduceLROnPlateau):
            sched.step(loss)  # reads the loss on the host by design, outside step
        elif sched is not None:
            sched.step()

    step()
    return (lambda: _state(model, opt)), step, {"default": cr.random.default_generator}


def _dp_sgd():
    """examples/dp_sgd.py's private step on its functional model (a dict of
    tensors, replaced each step): per-example gradients by vmap(grad), each
    clipped, summed, plus noise from the example's own generator."""
    mod = _example("dp_sgd")
    g = np.random.default_rng(0)
    x = cr.tensor(g.standard_normal((4, 64)).astype(np.float32))
    y = cr.tensor(g.integers(0, 10, 4))
    p = mod.init(int(g.integers(100)))
    noise = cr.Generator().manual_seed(1)

    def step():
        p.update(mod.private_step(p, x, y, noise))

    step()
    return ((lambda: {f"parameter {k}": v for k, v in p.items()}), step,
            {"default": cr.random.default_generator, "noise": noise})


FUNCTIONAL = {"dp_sgd": _dp_sgd}


def _state(model, opt):
    names = {id(p): n for n, p in model.named_parameters()}
    state = {f"parameter {n}": p for n, p in model.named_parameters()}
    state.update({f"buffer {n}": b for n, b in model.named_buffers()})
    for k, v in getattr(model, "_carried", {}).items():
        state.update({f"carried {k}[{i}]": t for i, t in enumerate(v)})
    for p, st in opt.state.items():
        for k, v in st.items():
            where = f"optimizer state[{names.get(id(p), '?')}][{k!r}]"
            if isinstance(v, cr.Tensor):
                state[where] = v
            elif isinstance(v, list):  # L-BFGS's history of curvature pairs
                state.update({f"{where}[{i}]": t for i, t in enumerate(v)
                              if isinstance(t, cr.Tensor)})
    return state


def _record(model_name, opt_name, sched_name, seed, perturb=False):
    state_fn, step, gens = _setup(model_name, opt_name, sched_name, seed)
    if perturb:  # a different state: parameters, buffers and optimizer state
        g = np.random.default_rng(seed)
        for t in state_fn().values():
            a = t._data
            if a.dtype.kind == "f":
                noise = (1e-2 * np.abs(a) + 1e-3) * g.random(a.shape)
                a += np.where(np.isfinite(a), noise, 0).astype(a.dtype)
            elif a.ndim == 0:  # a counter (BatchNorm's num_batches_tracked)
                a += 1
    rec = Record(state_fn(), gens)
    with interpreting(rec):
        step()
        step()
    return rec.finish(state_fn())


def _check(model_name, opt_name, sched_name):
    rec = _record(model_name, opt_name, sched_name, 0)
    assert not rec.escapes, "\n".join(rec.escapes[:10])
    problems = replay(rec)
    assert not problems, "\n".join(problems[:10])
    if opt_name in CLOSURE_OPTIMIZERS:
        return  # their control flow reads the loss by design (see above)
    other = _record(model_name, opt_name, sched_name, 1, perturb=True)
    problems = compare_runs(rec, other)
    assert not problems, "\n".join(problems[:10])


@pytest.mark.parametrize("model_name", list(MODELS))
def test_model_steps_replay_bit_identical(model_name):
    _check(model_name, "Adam", "OneCycleLR")


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional_steps_replay_bit_identical(name):
    _check(name, None, None)


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_optimizer_steps_replay_bit_identical(opt_name):
    _check("batchnorm_dropout", opt_name, None)


@pytest.mark.parametrize("model_name, opt_name", [
    ("glm", "LBFGS-strong_wolfe"), ("glm", "CG"), ("gp_diabetes", "LBFGS-strong_wolfe"),
    ("batchnorm_dropout", "LBFGS"),
    ("batchnorm_dropout", "LBFGS-strong_wolfe"), ("batchnorm_dropout", "CG")])
def test_closure_optimizer_steps_replay_bit_identical(model_name, opt_name):
    _check(model_name, opt_name, None)


@pytest.mark.parametrize("sched_name", list(SCHEDULERS))
def test_scheduled_steps_replay_bit_identical(sched_name):
    _check("batchnorm_dropout", "SGD", sched_name)


def test_an_escape_is_named():
    """A store that bypasses the table is reported with the tensor's name."""
    cr.manual_seed(0)
    lin = nn.Linear(3, 2)
    state = {f"parameter {n}": p for n, p in lin.named_parameters()}
    rec = Record(state, {})
    with interpreting(rec):
        lin.weight._data[0, 0] = 5.0  # raw NumPy on tensor data
        lin(cr.ones(1, 3))
    rec.finish(state)
    assert rec.escapes and "parameter weight changed without a primitive" in (
        rec.escapes[0])
