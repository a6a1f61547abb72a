"""draw_graph / draw_model: the DOT text is parsed back and checked.

Rendering needs the Graphviz program ``dot``; the tests that need it are
skipped without it, and the message for its absence is checked by hiding it.
"""
import re
import shutil

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.errors import ArgumentError
from chainrule.viz import draw_graph, draw_model, record_modules


def parse_dot(source):
    """{id: label}, [(from, to)] and {cluster label: [ids]} from our DOT text."""
    label = r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"'
    nodes = {m.group(1): m.group(2).replace("\\n", "\n")
             for m in re.finditer(label, source, re.M)}
    edges = re.findall(r"^\s*(\w+) -> (\w+);", source, re.M)
    clusters, current = {}, []
    for line in source.splitlines():
        if "subgraph cluster_" in line:
            current.append(None)
        elif current and current[-1] is None and line.strip().startswith("label="):
            current[-1] = re.search(r'label="([^"]*)"', line).group(1)
            clusters[current[-1]] = []
        elif line.strip() == "}" and current:
            current.pop()
        elif current:
            m = re.match(r"\s*(\w+) \[label=", line)
            if m:
                clusters[current[-1]].append(m.group(1))
    return nodes, edges, clusters


def _by_label(nodes):
    return {label.split("\n")[0]: i for i, label in nodes.items()}


def small():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    w = cr.tensor([0.5, -1.0], requires_grad=True)
    return x, w, (cr.tanh(x * w) + 1.0).sum()


def test_small_function_nodes_and_edges():
    x, w, y = small()
    g = draw_graph(y, params={"x": x, "w": w})
    nodes, edges, _ = parse_dot(g.source)
    assert sorted(lab.split("\n")[0] for lab in nodes.values()) == sorted(
        ["x", "w", "mul", "tanh", "const", "add", "sum"])
    ids = _by_label(nodes)
    want = {("x", "mul"), ("w", "mul"), ("mul", "tanh"), ("tanh", "add"),
            ("const", "add"), ("add", "sum")}
    first = {k: v.split("\n")[0] for k, v in nodes.items()}
    assert {(first[s], first[d]) for s, d in edges} == want
    assert len(edges) == len(want)
    assert nodes[ids["mul"]].split("\n")[1] == "[2]"
    assert nodes[ids["sum"]].split("\n")[1] == "[]"
    assert nodes[ids["x"]] == "x\n[2]"
    assert g.edges == edges and set(g.nodes) == set(nodes)


def test_values_and_grads_match_torch():
    x, w, y = small()
    g = draw_graph(y, params={"x": x, "w": w}, show_values=True, show_grads=True)
    nodes, _, _ = parse_dot(g.source)
    ids = _by_label(nodes)
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    wt = torch.tensor([0.5, -1.0], requires_grad=True)
    m = xt * wt
    m.retain_grad()
    (torch.tanh(m) + 1.0).sum().backward()

    def nums(text):
        return [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", text)]

    mul = nodes[ids["mul"]].split("\n")
    np.testing.assert_allclose(nums(mul[2]), m.detach().numpy(), rtol=5e-3)
    np.testing.assert_allclose(nums(mul[3]), m.grad.numpy(), rtol=5e-3)
    np.testing.assert_allclose(nums(nodes[ids["x"]].split("\n")[3]), xt.grad.numpy(),
                               rtol=5e-3)
    np.testing.assert_allclose(nums(nodes[ids["w"]].split("\n")[3]), wt.grad.numpy(),
                               rtol=5e-3)


def mlp():
    cr.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())


def test_draw_model_collapses_modules():
    g = draw_model(mlp(), cr.randn(3, 2))
    nodes, edges, _ = parse_dot(g.source)
    labels = {i: lab.split("\n")[0] for i, lab in nodes.items()}
    assert sorted(labels.values()) == ["0: Linear", "1: Tanh", "2: Linear",
                                       "3: Sigmoid", "input"]
    chain = [("input", "0: Linear"), ("0: Linear", "1: Tanh"), ("1: Tanh", "2: Linear"),
             ("2: Linear", "3: Sigmoid")]
    assert sorted((labels[s], labels[d]) for s, d in edges) == sorted(chain)
    inv = {v: k for k, v in labels.items()}
    assert nodes[inv["2: Linear"]].endswith("[3, 1]")


def test_module_frames_hold_their_nodes():
    model = mlp()
    with record_modules(model) as rec:
        out = model(cr.randn(3, 2))
    g = draw_graph(out, params=dict(model.named_parameters()), modules=rec)
    nodes, edges, clusters = parse_dot(g.source)
    assert {k: [nodes[i].split("\n")[0] for i in v] for k, v in clusters.items()} == {
        "0: Linear": ["linear"], "1: Tanh": ["tanh"], "2: Linear": ["linear"],
        "3: Sigmoid": ["sigmoid"]}
    labels = {nodes[s].split("\n")[0] for s, d in edges}
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= labels
    # hooks are gone afterwards
    assert all(not m._forward_hooks and not m._forward_pre_hooks
               for m in model.modules())


def test_collapse_by_type_in_a_transformer_layer():
    cr.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    g = draw_model(layer, cr.randn(2, 5, 8), collapse=["MultiheadAttention"])
    nodes, _, clusters = parse_dot(g.source)
    firsts = [lab.split("\n")[0] for lab in nodes.values()]
    assert "self_attn: MultiheadAttention" in firsts
    assert "softmax" not in firsts  # inside the collapsed attention box
    assert "linear1: Linear" in clusters and "layer_norm" in firsts


def test_errors_and_rendering(tmp_path, monkeypatch):
    with pytest.raises(ArgumentError, match="draw_graph: the output has no recorded"):
        draw_graph(cr.ones(2) * 2)
    with pytest.raises(ArgumentError, match="draw_graph: expected a Tensor"):
        draw_graph(3)
    x, w, y = small()
    g = draw_graph(y)
    assert g.render(tmp_path / "g.dot") and (tmp_path / "g.dot").read_text() == g.source
    with pytest.raises(ArgumentError, match="unknown format 'jpg'"):
        g.render(tmp_path / "g.jpg")
    if shutil.which("dot"):
        assert "<svg" in g._repr_svg_()
        assert g.pipe("png")[:4] == b"\x89PNG"
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on PATH
    with pytest.raises(ArgumentError, match="'dot' was not found"):
        g.pipe("svg")
    assert g._repr_svg_() is None
