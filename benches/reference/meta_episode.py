"""PyTorch reference for the criterion benches `meta_plasticity/meta_episode/{bio,bio_reverse,pool,pool_reverse}`
(benches/benches/meta_plasticity.rs).

One meta-training episode of paper B: reverse-mode autograd through the whole unrolled inner loop to
dL/dTheta. Network 784-170-130-100-70-47, no biases, softplus(beta=10, threshold=20) hidden layers,
softmax output, feedback alignment (fixed random B stored in W's shape). 250 online steps (batch 1,
one pass), each

    forward; e_L = softmax - onehot; e_l = (B^T e_{l+1}) * (1 - exp(-beta y_l)), l = L-1..0 (y_0 = x)
    W <- (1 - th3) W + e r_e^T + y r_y^T - th4 1 e_p^T                           (all layers, pre-update)
    r_e = -(th0 + th5 sum(y) + th7 s) y_p - th2 e_p,   s = y^T W e_p
    r_y = -(th1 + th6 s + th8 e^T z) e_p + th9 (y_p - W^T y)

(F^bio: only th0, th2, th9 act; F^pool: all ten), with the teaching signals inside the graph (as in
the original), then the mean cross-entropy of 50 query images and torch.autograd.grad to dL/dTheta.

Variants (--family bio|pool picks the rule), each one JSON line {"name", "us_per_step", "peak_rss_mb", ...}:
  - "torch_autograd_factored" (the strongest, the one the targets refer to): each layer's update is one
    W_new = addmm((1 - th3) W, [e, y, 1], [r_e; r_y; -th4 e_p]) (F^bio: addmm(W, [e, y], [r_e; r_y])), so the
    tape holds vectors and one weight version per layer and step, not a dense rank-one matrix per term;
  - "torch_autograd_dense" (as the published code writes it): each term a dense outer product on the tape,
    ΔW = sum_r th_r F^r.
"us_per_step" is microseconds per EPISODE (250 inner steps + query + gradient), the unit of the Rust
bench. "peak_rss_mb" is the process's peak resident set size (ru_maxrss, Python and torch included)
after that variant ran; the factored variant runs first, so its peak is its own ("rss_before_mb" is the
resident size before any episode).

torch.compile: not tried for this episode. Compiling the whole unrolled episode traces 250 steps into
one graph (long compile times on a 2-core machine); compiling one inner step leaves the Python-level
unroll and autograd's tape as they are, and the step's work is a handful of matrix-vector products
that eager mode already runs as single library calls (for the online step, where it was measured,
torch.compile was on par with eager; see online_step.py). A compiled step is left for a rerun on an
idle machine.

Threads: torch.set_num_threads(--threads); OMP_WAIT_POLICY=PASSIVE is set before torch is imported
(unless the environment sets it).

Correctness first: the Rust reference (`cargo run --release -p benches --example reference_case -- DIR`,
run by `cargo xtask bench compare`) holds the bench's initial weights, feedback, inputs, labels, Theta and
the forward-mode result. Each variant runs that episode and must match the query loss (rtol 1e-4) and
every dL/dTheta_r (|diff| <= 2e-3 |g_r| + 1e-3 max_r |g_r|: f32 through 250 steps); otherwise the
script exits with status 3 and times nothing. The timed episodes run on the same problem.

Not run in CI (PyTorch is large); `cargo xtask bench compare` runs it when torch is importable.
Usage: python3 benches/reference/meta_episode.py [--family bio] [--episodes 3] [--threads 1] [--reference DIR]
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _rust_reference as rust  # noqa: E402

LOSS_RTOL = 1e-4
GRAD_RTOL = 2e-3
GRAD_ATOL_OF_MAX = 1e-3


class Problem:
    """One episode's fixed data, from the Rust reference case."""

    def __init__(self, arrays, scalars):
        self.weights = rust.layers(arrays, "weights")
        self.feedback = rust.layers(arrays, "feedback")
        self.feedback_t = [b.t().contiguous() for b in self.feedback]
        self.beta = scalars["beta"]
        n_train = int(scalars["n_train"])
        inputs = arrays["inputs"]
        labels = [int(l) for l in arrays["labels"].tolist()]
        n_out = self.weights[-1].shape[0]
        onehots = torch.eye(n_out)
        self.train = [(inputs[i], onehots[labels[i]]) for i in range(n_train)]
        # The input layer's sigma' = 1 - exp(-beta x) is a constant of the sample (Eq. 24).
        self.input_sig = [1.0 - torch.exp(-self.beta * x) for x, _ in self.train]
        self.query_x = inputs[n_train:].t().contiguous()
        self.query_y = torch.tensor(labels[n_train:])


def forward(weights, x, beta):
    ys, zs = [x], []
    for idx, w in enumerate(weights):
        z = torch.mv(w, ys[-1])
        zs.append(z)
        ys.append(F.softplus(z, beta=beta, threshold=20.0) if idx + 1 < len(weights) else torch.softmax(z, 0))
    return ys, zs


def teach(problem, ys, onehot, step):
    """Errors e_0 (synthetic input error) ... e_L, inside the graph."""
    errors = [None] * len(ys)
    errors[-1] = ys[-1] - onehot
    for layer in range(len(ys) - 2, -1, -1):
        sig = problem.input_sig[step] if layer == 0 else 1.0 - torch.exp(-problem.beta * ys[layer])
        errors[layer] = torch.mv(problem.feedback_t[layer], errors[layer + 1]) * sig
    return errors


def factored_update(family, w, th, y_p, e_p, y, e, z):
    """W_new in factored form: one addmm of an (n_out x k) by a (k x n_in) factor."""
    proj = torch.mv(w.t(), y)
    if family == "bio":
        r_e = -th[0] * y_p - th[2] * e_p
        r_y = th[9] * (y_p - proj)
        return torch.addmm(w, torch.stack((e, y), 1), torch.stack((r_e, r_y)))
    s = torch.dot(proj, e_p)
    r_e = -(th[0] + th[5] * y.sum() + th[7] * s) * y_p - th[2] * e_p
    r_y = -(th[1] + th[6] * s + th[8] * torch.dot(e, z)) * e_p + th[9] * (y_p - proj)
    ones = torch.ones_like(y)
    return torch.addmm((1.0 - th[3]) * w, torch.stack((e, y, ones), 1), torch.stack((r_e, r_y, -th[4] * e_p)))


def dense_update(family, w, th, y_p, e_p, y, e, z):
    """W + sum_r th_r F^r with every term a dense matrix, as the published code writes it."""
    if family == "bio":
        return w + (
            -th[0] * torch.outer(e, y_p) - th[2] * torch.outer(e, e_p) + th[9] * torch.outer(y, y_p - w.t() @ y)
        )
    s = y @ w @ e_p
    ones = torch.ones_like(y)
    delta = (
        -th[0] * torch.outer(e, y_p)
        - th[1] * torch.outer(y, e_p)
        - th[2] * torch.outer(e, e_p)
        - th[3] * w
        - th[4] * torch.outer(ones, e_p)
        - th[5] * y.sum() * torch.outer(e, y_p)
        - th[6] * s * torch.outer(y, e_p)
        - th[7] * s * torch.outer(e, y_p)
        - th[8] * torch.dot(e, z) * torch.outer(y, e_p)
        + th[9] * torch.outer(y, y_p - w.t() @ y)
    )
    return w + delta


def episode(problem, theta, family, update):
    """One unrolled episode; returns (query loss, dL_query/dTheta) by autograd through every step."""
    weights = list(problem.weights)
    for step, (x, onehot) in enumerate(problem.train):
        ys, zs = forward(weights, x, problem.beta)
        errors = teach(problem, ys, onehot, step)
        weights = [
            update(family, w, theta, ys[idx], errors[idx], ys[idx + 1], errors[idx + 1], zs[idx])
            for idx, w in enumerate(weights)
        ]
    h = problem.query_x
    for idx, w in enumerate(weights):
        z = w @ h
        h = F.softplus(z, beta=problem.beta, threshold=20.0) if idx + 1 < len(weights) else z
    loss = F.cross_entropy(h.t(), problem.query_y)
    (grad,) = torch.autograd.grad(loss, theta)
    return loss.detach(), grad


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=["bio", "pool"], default="bio")
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--reference", default=None, help="directory of the Rust reference cases")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    arrays, scalars = rust.load(f"meta_episode_{args.family}", args.reference)
    problem = Problem(arrays, scalars)
    theta = arrays["theta"].clone().requires_grad_(True)
    want_grad = torch.tensor([scalars[f"gradient_f64.{idx}"] for idx in range(theta.numel())], dtype=torch.float64)
    rss_before = rss_mb()
    for name, update in [("torch_autograd_factored", factored_update), ("torch_autograd_dense", dense_update)]:
        # The checked episode is also the warm-up.
        loss, grad = episode(problem, theta, args.family, update)
        used = rust.check(f"{name} ({args.family}) query loss", loss, scalars["query_loss"], LOSS_RTOL, 0.0)
        atol = GRAD_ATOL_OF_MAX * want_grad.abs().max().item()
        used = max(used, rust.check(f"{name} ({args.family}) dL/dTheta", grad, want_grad, GRAD_RTOL, atol))
        start = time.perf_counter()
        for _ in range(args.episodes):
            episode(problem, theta, args.family, update)
        elapsed = time.perf_counter() - start
        print(
            json.dumps(
                {
                    "name": name,
                    "us_per_step": round(elapsed / args.episodes * 1e6, 1),
                    "peak_rss_mb": round(peak_rss_mb(), 1),
                    "rss_before_mb": round(rss_before, 1),
                    "unit": "us per episode",
                    "family": args.family,
                    "threads": args.threads,
                    "checked": "query loss and dL/dTheta vs Rust",
                    "tolerance_used": round(used, 3),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
