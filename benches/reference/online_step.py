"""PyTorch reference for the criterion bench `plasticity/online_step` (benches/benches/plasticity.rs).

One online step of paper B's network, 784-170-130-100-70-47, no biases, softplus(beta=10) hidden
layers, softmax/cross-entropy output, batch 1, feedback alignment (fixed random B stored in W's
shape) with the FA + Oja rule (theta0 = 0.01, theta9 = 0.004):

    forward, e_L = softmax - onehot, e_l = (B^T e_{l+1}) * (1 - exp(-beta y_l)),
    W <- W - theta0 e y_prev^T + theta9 (y y_prev^T - y y^T W)      (all layers, pre-update values)

Variants, each printed as one JSON line {"name": ..., "us_per_step": ..., "threads": ...}:
  - "torch_manual_inplace" (the strongest, the one the target refers to): the step under
    torch.no_grad() into preallocated buffers; the two rank-one terms of a layer are one
    W.addmm_(U^T, V) with U = [e; y] (2 x n_out) and V = [-theta0 y_prev; theta9 (y_prev - W^T y)]
    (2 x n_in), so W is read and written once; y_l is written by the forward pass straight into its
    row of U, and sigma' = 1 - exp(-beta y) = sigmoid(beta z) comes from the forward pass;
  - "torch_autograd" (as an autograd user writes it): feedback alignment as a custom autograd
    Function (backward uses B), the pseudo-gradient from loss.backward(), the Oja term by hand.
  - "torch_manual_inplace_compiled" (only with --compile): the same in-place step under
    torch.compile (inductor, static shapes; the label enters as its one-hot row so one graph serves
    every sample). Measured once on the 2-core development machine while it was loaded (1 thread,
    1,000 steps, both checked against Rust): on par with the eager in-place step, within the noise;
    the per-step work is a few matrix-vector products that eager mode already runs as single
    library calls, and what compilation fuses (the elementwise tails) is small. So the eager step
    is the main variant, and --compile times the compiled one beside it for a rerun on an idle
    machine.

Threads: torch.set_num_threads(--threads); OMP_WAIT_POLICY=PASSIVE is set before torch is imported
(unless the environment sets it), so idle OpenMP workers sleep instead of spinning on a shared core.

Correctness first: each variant runs the Rust reference's 20 steps from the Rust initial weights on
the Rust inputs (`cargo run --release -p benches --example reference_case -- DIR`, which
`cargo xtask bench compare` runs) and every weight must agree within atol 2e-6 + rtol 1e-4 (f32
rounding over 20 steps); on a mismatch the script exits with status 3 and times nothing. The
timed steps then run on the same inputs.

Not run in CI (PyTorch is large); `cargo xtask bench compare` runs it when torch is importable.
Usage: python3 benches/reference/online_step.py [--steps 2000] [--threads 1] [--reference DIR] [--compile]
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _rust_reference as rust  # noqa: E402

RTOL = 1e-4
ATOL = 2e-6


class InplaceStep:
    """The FA + Oja step under no_grad, every intermediate in a buffer allocated once."""

    def __init__(self, weights, feedback, beta, theta0, theta9, n_out):
        self.weights, self.feedback = weights, feedback
        self.beta, self.theta0, self.theta9 = beta, theta0, theta9
        sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
        self.z = [torch.empty(n) for n in sizes[1:]]
        # u[l] rows: e_l, y_l (layer l's post-synaptic error and activation).
        self.u = [torch.empty(2, n) for n in sizes[1:]]
        # v[l] rows: -theta0 y_prev, theta9 (y_prev - W^T y).
        self.v = [torch.empty(2, n) for n in sizes[:-1]]
        self.sig = [torch.empty(n) for n in sizes[1:-1]]
        self.onehots = torch.eye(n_out).unbind(0)

    @torch.no_grad()
    def __call__(self, x, label):
        self.body(x, self.onehots[label])

    def body(self, x, onehot):
        ws, bs, u, v, z = self.weights, self.feedback, self.u, self.v, self.z
        n = len(ws)
        y_prev = x
        for idx, w in enumerate(ws):
            torch.mv(w, y_prev, out=z[idx])
            if idx + 1 < n:
                torch._C._nn.softplus(z[idx], self.beta, 20.0, out=u[idx][1])
                torch.sigmoid(z[idx].mul_(self.beta), out=self.sig[idx])
            else:
                u[idx][1].copy_(torch.softmax(z[idx], 0))
            y_prev = u[idx][1]
        torch.sub(u[-1][1], onehot, out=u[-1][0])
        for layer in range(n - 1, 0, -1):
            torch.mv(bs[layer].t(), u[layer][0], out=u[layer - 1][0])
            u[layer - 1][0].mul_(self.sig[layer - 1])
        y_prev = x
        for idx, w in enumerate(ws):
            torch.mul(y_prev, -self.theta0, out=v[idx][0])
            torch.addmv(y_prev, w.t(), u[idx][1], beta=self.theta9, alpha=-self.theta9, out=v[idx][1])
            w.addmm_(u[idx].t(), v[idx])
            y_prev = u[idx][1]


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


class AutogradStep:
    """Feedback alignment through autograd, the Oja term added by hand."""

    def __init__(self, weights, feedback, beta, theta0, theta9):
        self.weights, self.feedback = weights, feedback
        self.beta, self.theta0, self.theta9 = beta, theta0, theta9
        for w in weights:
            w.requires_grad_(True)

    def __call__(self, x, label):
        weights = self.weights
        for w in weights:
            w.grad = None
        y = x
        ys = [x]
        for idx, (w, b) in enumerate(zip(weights, self.feedback)):
            z = FeedbackLinear.apply(y, w, b)
            y = F.softplus(z, beta=self.beta, threshold=20.0) if idx + 1 < len(weights) else z
            ys.append(y)
        loss = F.cross_entropy(y.unsqueeze(0), torch.tensor([label]))
        loss.backward()
        with torch.no_grad():
            ys[-1] = torch.softmax(ys[-1], 0)
            projections = [w.t() @ ys[idx + 1] for idx, w in enumerate(weights)]
            for idx, w in enumerate(weights):
                y_prev, y_post = ys[idx].detach(), ys[idx + 1].detach()
                w.add_(w.grad, alpha=-self.theta0)
                w.add_(torch.outer(y_post, y_prev - projections[idx]), alpha=self.theta9)


def build(variant, arrays, scalars):
    weights = [w.clone() for w in rust.layers(arrays, "weights")]
    feedback = rust.layers(arrays, "feedback")
    beta, theta0, theta9 = scalars["beta"], scalars["theta0"], scalars["theta9"]
    if variant == "torch_autograd":
        return weights, AutogradStep(weights, feedback, beta, theta0, theta9)
    step = InplaceStep(weights, feedback, beta, theta0, theta9, weights[-1].shape[0])
    if variant == "torch_manual_inplace_compiled":
        compiled = torch.compile(step.body, dynamic=False)

        @torch.no_grad()
        def compiled_step(x, label):
            compiled(x, step.onehots[label])

        return weights, compiled_step
    return weights, step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--reference", default=None, help="directory of the Rust reference cases")
    parser.add_argument("--compile", action="store_true", help="also time the torch.compile'd in-place step")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    arrays, scalars = rust.load("online_step", args.reference)
    inputs = arrays["inputs"].unbind(0)
    labels = [int(l) for l in arrays["labels"].tolist()]
    variants = ["torch_manual_inplace", "torch_autograd"]
    if args.compile:
        variants.append("torch_manual_inplace_compiled")
    for variant in variants:
        weights, step = build(variant, arrays, scalars)
        for idx in range(int(scalars["steps"])):
            step(inputs[idx % len(inputs)], labels[idx % len(inputs)])
        used = 0.0
        for layer, (got, want) in enumerate(zip(weights, rust.layers(arrays, "weights_after"))):
            what = f"{variant} W{layer} after {int(scalars['steps'])} steps"
            used = max(used, rust.check(what, got.detach(), want, RTOL, ATOL))
        for idx in range(200):
            step(inputs[idx % len(inputs)], labels[idx % len(inputs)])
        start = time.perf_counter()
        for idx in range(args.steps):
            step(inputs[idx % len(inputs)], labels[idx % len(inputs)])
        elapsed = time.perf_counter() - start
        print(json.dumps({"name": variant, "us_per_step": round(elapsed / args.steps * 1e6, 2), "threads": args.threads, "checked": "weights vs Rust", "tolerance_used": round(used, 3)}))


if __name__ == "__main__":
    main()
