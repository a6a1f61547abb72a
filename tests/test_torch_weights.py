"""Weights trained in PyTorch, saved by safetensors.torch, loaded into the
matching chainrule model: same outputs; mismatches reported."""
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import chainrule as cr
from chainrule import nn
from chainrule.io import CheckpointError, load_torch_weights


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 6)
        self.lstm = torch.nn.LSTM(6, 5, batch_first=True)
        self.bn = torch.nn.BatchNorm1d(5)
        self.fc = torch.nn.Linear(5, 3)

    def forward(self, ids):
        h, _ = self.lstm(self.emb(ids))
        return self.fc(self.bn(h[:, -1]))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 6)
        self.lstm = nn.LSTM(6, 5, batch_first=True)
        self.bn = nn.BatchNorm1d(5)
        self.fc = nn.Linear(5, 3)

    def forward(self, ids):
        h, _ = self.lstm(self.emb(ids))
        return self.fc(self.bn(h[:, -1]))


def _trained_torch():
    torch.manual_seed(0)
    net = TorchNet()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    ids = torch.randint(0, 10, (8, 4))
    for _ in range(3):  # a few steps so running stats and weights move
        opt.zero_grad()
        net(ids).square().mean().backward()
        opt.step()
    return net.eval(), ids


def test_torch_weights_give_torch_outputs(tmp_path):
    tnet, ids = _trained_torch()
    path = tmp_path / "w.safetensors"
    save_file(tnet.state_dict(), str(path))
    net = Net().eval()
    report = load_torch_weights(net, path)
    assert report.ok and len(report.loaded) == len(tnet.state_dict())
    out = net(cr.tensor(ids.numpy()))
    with torch.no_grad():
        want = tnet(ids).numpy()
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-5, atol=1e-6)


def test_prefixes_renames_and_mismatches(tmp_path):
    tnet, _ = _trained_torch()
    sd = {"module." + k: v for k, v in tnet.state_dict().items()}  # DDP's names
    path = tmp_path / "ddp.safetensors"
    save_file(sd, str(path))
    report = load_torch_weights(Net(), path)
    assert report.ok and report.renamed["module.fc.weight"] == "fc.weight"

    sd = dict(tnet.state_dict())
    sd["head.weight"] = sd.pop("fc.weight")
    sd["fc.bias"] = torch.zeros(4)
    del sd["bn.running_var"]
    path = tmp_path / "bad.safetensors"
    save_file(sd, str(path))
    net = Net()
    before = net.emb.weight.detach().numpy().copy()
    with pytest.raises(CheckpointError) as err:
        load_torch_weights(net, path)
    msg = str(err.value)
    for piece in ("nothing was loaded", "missing from the file: bn.running_var, "
                  "fc.weight", "not in the model: head.weight",
                  "shape mismatch for fc.bias: file [4], model [3]"):
        assert piece in msg
    np.testing.assert_array_equal(net.emb.weight.detach().numpy(), before)
    report = load_torch_weights(net, path, strict=False,
                                rename={"head.weight": "fc.weight"})
    assert report.missing == ["bn.running_var"] and report.unexpected == []
    np.testing.assert_array_equal(net.fc.weight.detach().numpy(),
                                  tnet.fc.weight.detach().numpy())


def test_weights_back_to_torch(tmp_path):
    from safetensors.torch import load_file

    from chainrule.io import save_torch_weights

    tnet, ids = _trained_torch()
    path = tmp_path / "w.safetensors"
    save_file(tnet.state_dict(), str(path))
    net = Net().eval()
    load_torch_weights(net, path)
    with cr.no_grad():
        net.fc.weight.mul_(2.0)  # changed on this side, then sent back
    back = tmp_path / "back.safetensors"
    save_torch_weights(net, back)
    fresh = TorchNet().eval()
    fresh.load_state_dict(load_file(str(back)))
    with torch.no_grad():
        want = fresh(ids).numpy()
    np.testing.assert_allclose(net(cr.tensor(ids.numpy())).detach().numpy(), want,
                               rtol=1e-5, atol=1e-6)
