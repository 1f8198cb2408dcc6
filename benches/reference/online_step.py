"""PyTorch reference for the criterion bench `plasticity/online_step` (benches/benches/plasticity.rs).

One online step of paper B's network, 784-170-130-100-70-47, no biases, softplus(beta=10) hidden
layers, softmax/cross-entropy output, batch 1, feedback alignment (fixed random B, Xavier-uniform)
with the FA + Oja rule (theta0 = 0.01, theta9 = 0.004):

    forward, e_L = softmax - onehot, e_l = (B^T e_{l+1}) * (1 - exp(-beta y_l)),
    W <- W - theta0 e y_prev^T + theta9 (y y_prev^T - y y^T W)      (all layers, pre-update values)

Two variants, each printed as one JSON line {"name": ..., "us_per_step": ...}:
  - "torch_manual_no_grad": the step written out with tensor ops under torch.no_grad();
  - "torch_autograd": feedback alignment as a custom autograd Function (backward uses B), the
    pseudo-gradient from loss.backward(), the Oja term added by hand.

Not run in CI (PyTorch is large); `cargo xtask bench --compare` runs it when torch is importable.
Usage: python3 benches/reference/online_step.py [--steps 2000] [--threads 1]
"""

import argparse
import json
import time

import torch
import torch.nn.functional as F

SIZES = [784, 170, 130, 100, 70, 47]
BETA = 10.0
THETA0 = 0.01
THETA9 = 0.004
N_INPUTS = 16


def xavier_uniform(n_out, n_in, generator):
    bound = (6.0 / (n_in + n_out)) ** 0.5
    return (torch.rand(n_out, n_in, generator=generator) * 2.0 - 1.0) * bound


def make_problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    weights = [xavier_uniform(n_out, n_in, g) for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
    feedback = [xavier_uniform(n_out, n_in, g) for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
    inputs = torch.rand(N_INPUTS, SIZES[0], generator=g)
    labels = torch.arange(N_INPUTS) % 10
    return weights, feedback, inputs, labels


@torch.no_grad()
def manual_step(weights, feedback, x, label):
    ys = [x]
    for idx, w in enumerate(weights):
        z = w @ ys[-1]
        ys.append(F.softplus(z, beta=BETA, threshold=20.0) if idx + 1 < len(weights) else torch.softmax(z, 0))
    e = ys[-1].clone()
    e[label] -= 1.0
    errors = [None] * len(ys)
    errors[-1] = e
    for layer in range(len(weights) - 1, 0, -1):
        # Feedback stored in W's shape: the paper's B_{l+1,l} is its transpose.
        errors[layer] = (feedback[layer].t() @ errors[layer + 1]) * (1.0 - torch.exp(-BETA * ys[layer]))
    # All corrections from pre-update values, then update.
    projections = [w.t() @ ys[idx + 1] for idx, w in enumerate(weights)]
    for idx, w in enumerate(weights):
        y_prev, y, e_post = ys[idx], ys[idx + 1], errors[idx + 1]
        w.add_(torch.outer(e_post, y_prev), alpha=-THETA0)
        w.add_(torch.outer(y, y_prev - projections[idx]), alpha=THETA9)


class FeedbackLinear(torch.autograd.Function):
    """y = W x with the backward pass through a fixed matrix B (feedback alignment)."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, b)
        return w @ x

    @staticmethod
    def backward(ctx, grad_out):
        x, b = ctx.saved_tensors
        return b.t() @ grad_out, torch.outer(grad_out, x), None


def autograd_step(weights, feedback, x, label):
    for w in weights:
        w.grad = None
    y = x
    ys = [x]
    for idx, (w, b) in enumerate(zip(weights, feedback)):
        z = FeedbackLinear.apply(y, w, b)
        y = F.softplus(z, beta=BETA, threshold=20.0) if idx + 1 < len(weights) else z
        ys.append(y)
    loss = F.cross_entropy(y.unsqueeze(0), label.unsqueeze(0))
    loss.backward()
    with torch.no_grad():
        ys[-1] = torch.softmax(ys[-1], 0)
        projections = [w.t() @ ys[idx + 1] for idx, w in enumerate(weights)]
        for idx, w in enumerate(weights):
            y_prev, y_post = ys[idx].detach(), ys[idx + 1].detach()
            w.add_(w.grad, alpha=-THETA0)
            w.add_(torch.outer(y_post, y_prev - projections[idx]), alpha=THETA9)


def time_variant(name, step, weights, feedback, inputs, labels, n_steps):
    for idx in range(200):
        step(weights, feedback, inputs[idx % N_INPUTS], labels[idx % N_INPUTS])
    start = time.perf_counter()
    for idx in range(n_steps):
        step(weights, feedback, inputs[idx % N_INPUTS], labels[idx % N_INPUTS])
    elapsed = time.perf_counter() - start
    print(json.dumps({"name": name, "us_per_step": round(elapsed / n_steps * 1e6, 2)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (the Rust step is sequential)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    weights, feedback, inputs, labels = make_problem()
    time_variant("torch_manual_no_grad", manual_step, weights, feedback, inputs, labels, args.steps)

    weights, feedback, inputs, labels = make_problem()
    for w in weights:
        w.requires_grad_(True)
    time_variant("torch_autograd", autograd_step, weights, feedback, inputs, labels, args.steps)


if __name__ == "__main__":
    main()
