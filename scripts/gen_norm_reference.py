#!/usr/bin/python3
"""Generate tests/reference/norm.txt: PyTorch goldens for dropout, batch norm, layer norm and
residual blocks (issue 4), in the format of scripts/gen_reference.py (whose Writer it uses).

    /usr/bin/python3 scripts/gen_norm_reference.py           # (re)write the file
    /usr/bin/python3 scripts/gen_norm_reference.py --check   # exit 1 if the committed file is stale

Every net is an nn.Sequential; a residual block is the module Residual below (forward x + f(x),
its layers registered "0", "1", ... like a nested nn.Sequential), so the state_dict keys are the
ones ctnn uses ("3.0.weight"). Parameters are PyTorch's default init in float64 under a fixed seed,
with the normalization layers' weight, bias and running statistics perturbed so that none is
trivial; the f32 records are those values rounded to float32, and every f32 result is computed
by PyTorch in float32.

Records, per net <n> and dtype <dt> (f32, f64):
  <n>.<dt>.p.<key>            parameters and buffers before anything runs (num_batches_tracked as f64)
  <n>.<dt>.x, <n>.<dt>.t      a batch of inputs and MSE targets
  <n>.<dt>.eval.y             net.eval() forward of the batch
  <n>.<dt>.eval.y1            net.eval() forward of the first sample alone
  <n>.<dt>.train.y            net.train() forward of the batch (batch statistics)
  <n>.<dt>.train.loss         MSELoss() of that output against t
  <n>.<dt>.train.dx           dL/dx
  <n>.<dt>.train.grad.<key>   dL/d(parameter)
  <n>.<dt>.train.buf.<key>    the buffers after that one training forward
  <n>.<dt>.train1.*           the same for the first sample alone (nets without batch norm)
Trajectory of the net "all" (every new layer; dropout p = 0), Adam(lr=1e-2), 25 steps on one batch
(its first Linear has no bias, as is usual before batch norm: that bias's gradient is exactly zero
in theory, so in float32 it is rounding noise that Adam would amplify into arbitrary steps):
  all.<dt>.traj.loss          the 25 losses (before each update)
  all.<dt>.traj.p.<key>       parameters and buffers after the 25 steps
  all.<dt>.traj.eval.y        net.eval() forward of the batch after the 25 steps
"""

import argparse
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_reference import DTYPES, TORCH_LABEL, Writer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "tests", "reference", "norm.txt"))


class Residual(nn.Module):
    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            self.add_module(str(i), layer)

    def forward(self, x):
        y = x
        for layer in self.children():
            y = layer(y)
        return x + y


def nets():
    """name -> (seed, input width, batch, factory, has batch norm)"""
    return {
        "bn": (11, 3, 6, lambda: nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 2)), True),
        "bn17": (12, 5, 9, lambda: nn.Sequential(nn.Linear(5, 17), nn.ReLU(), nn.BatchNorm1d(17), nn.Linear(17, 3)), True),
        "ln": (13, 3, 5, lambda: nn.Sequential(nn.Linear(3, 7), nn.LayerNorm(7), nn.ReLU(), nn.Linear(7, 2)), False),
        "ln1": (14, 4, 3, lambda: nn.Sequential(nn.LayerNorm(4), nn.Linear(4, 19), nn.LayerNorm(19), nn.Sigmoid(), nn.Linear(19, 2)), False),
        "res": (15, 3, 4, lambda: nn.Sequential(
            nn.Linear(3, 8),
            Residual(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8)),
            Residual(Residual(nn.Linear(8, 8), nn.ReLU()), nn.LayerNorm(8)),
            nn.Linear(8, 2)), False),
        "drop0": (16, 3, 4, lambda: nn.Sequential(nn.Linear(3, 5), nn.Dropout(0.0), nn.ReLU(), nn.Linear(5, 2)), False),
        "all": (17, 4, 8, lambda: nn.Sequential(
            nn.Linear(4, 16, bias=False), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.0),
            Residual(nn.Linear(16, 16), nn.LayerNorm(16), nn.ReLU(), nn.Linear(16, 16)),
            nn.Linear(16, 3)), True),
    }


def build(seed, factory):
    torch.manual_seed(seed)
    net = factory().double()
    g = torch.Generator()
    g.manual_seed(seed + 1000)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.LayerNorm)):
                n = m.weight.numel()
                m.weight.copy_(1 + 0.3 * torch.randn(n, generator=g, dtype=torch.float64))
                m.bias.copy_(0.2 * torch.randn(n, generator=g, dtype=torch.float64))
            if isinstance(m, nn.BatchNorm1d):
                n = m.running_mean.numel()
                m.running_mean.copy_(0.5 * torch.randn(n, generator=g, dtype=torch.float64))
                m.running_var.copy_(0.5 + torch.rand(n, generator=g, dtype=torch.float64))
                m.num_batches_tracked.fill_(3)
    return net


def state(w, prefix, net):
    for k, v in net.state_dict().items():
        w.tensor(f"{prefix}{k}", v.to(torch.float64) if not v.is_floating_point() else v)


def buffers(w, prefix, net):
    for k, v in net.named_buffers():
        w.tensor(f"{prefix}{k}", v.to(torch.float64) if not v.is_floating_point() else v)


def train_records(w, prefix, net, x, t):
    net.train()
    x = x.clone().requires_grad_(True)
    net.zero_grad()
    y = net(x)
    loss = nn.MSELoss()(y, t)
    loss.backward()
    w.tensor(f"{prefix}y", y)
    w.tensor(f"{prefix}loss", loss)
    w.tensor(f"{prefix}dx", x.grad)
    for k, p in net.named_parameters():
        w.tensor(f"{prefix}grad.{k}", p.grad)
    buffers(w, f"{prefix}buf.", net)


def gen(w):
    w.comment("Records" + __doc__.split("Records", 1)[1].rstrip())
    for name, (seed, n_in, batch, factory, has_bn) in nets().items():
        base = build(seed, factory)
        gx = torch.Generator()
        gx.manual_seed(seed + 2000)
        x64 = 1.5 * torch.randn(batch, n_in, generator=gx, dtype=torch.float64)
        n_out = base(x64[:2]).shape[1]
        t64 = torch.randn(batch, n_out, generator=gx, dtype=torch.float64)
        w.comment(f"net {name}: {base}".replace("\n", " "))
        for dt, torch_dt in DTYPES.items():
            net = build(seed, factory).to(torch_dt)
            x, t = x64.to(torch_dt), t64.to(torch_dt)
            prefix = f"{name}.{dt}."
            state(w, f"{prefix}p.", net)
            w.tensor(f"{prefix}x", x)
            w.tensor(f"{prefix}t", t)
            net.eval()
            with torch.no_grad():
                w.tensor(f"{prefix}eval.y", net(x))
                w.tensor(f"{prefix}eval.y1", net(x[:1]))
            train_records(w, f"{prefix}train.", net, x, t)
            if not has_bn:
                net1 = build(seed, factory).to(torch_dt)
                train_records(w, f"{prefix}train1.", net1, x[:1], t[:1])
            if name == "all":
                net = build(seed, factory).to(torch_dt)
                net.train()
                opt = torch.optim.Adam(net.parameters(), lr=1e-2)
                losses = []
                for _ in range(25):
                    opt.zero_grad()
                    loss = nn.MSELoss()(net(x), t)
                    loss.backward()
                    opt.step()
                    losses.append(loss.detach())
                w.tensor(f"{prefix}traj.loss", torch.stack(losses))
                state(w, f"{prefix}traj.p.", net)
                net.eval()
                with torch.no_grad():
                    w.tensor(f"{prefix}traj.eval.y", net(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    w = Writer("norm.txt")
    w.lines[0] = f"# generated by scripts/gen_norm_reference.py ({TORCH_LABEL}); do not edit"
    gen(w)
    text = w.text()
    if args.check:
        with open(OUT) as f:
            if f.read() != text:
                print("norm.txt is stale", file=sys.stderr)
                return 1
        return 0
    with open(OUT, "w") as f:
        f.write(text)
    print(f"wrote {OUT} ({len(w.lines)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
