#pragma once
// The network of examples/pytorch_interop.cpp: the ctnn type of the nn.Sequential that
// scripts/export_pytorch.py trains in PyTorch,
//   nn.Sequential(nn.Linear(3, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 16), nn.GELU(),
//                 nn.Dropout(0.1), nn.Linear(16, 2))
// Layer i here is entry i there, so the state_dict names ("0.weight", "1.running_mean", ...) agree.
#include <ctnn/ctnn.hpp>

using pytorch_interop_net =
    ctnn::network<float, ctnn::input<3>, ctnn::dense<16>, ctnn::batch_norm, ctnn::tanh, ctnn::dense<16>, ctnn::gelu,
                  ctnn::dropout<0.1>, ctnn::dense<2>>;
