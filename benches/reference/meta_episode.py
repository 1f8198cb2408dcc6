"""PyTorch reference for the criterion bench `meta_plasticity/meta_episode/bio` (benches/benches/meta_plasticity.rs).

One meta-training episode of paper B with the F^bio rule, the way the original code gets its
meta-gradient: reverse-mode autograd through the whole unrolled inner loop. Network
784-170-130-100-70-47, no biases, softplus(beta=10, threshold=20) hidden layers, softmax output,
feedback alignment (fixed random B, Xavier-uniform, stored in W's shape). 250 online steps
(batch 1, one pass), each

    forward; e_L = softmax - onehot; e_l = (B^T e_{l+1}) * (1 - exp(-beta y_l)), l = L-1..0 (y_0 = x)
    W <- W - theta0 e_l y_{l-1}^T - theta2 e_l e_{l-1}^T + theta9 (y_l y_{l-1}^T - y_l y_l^T W)   (all layers)

with the teaching signals inside the graph (as in the original), then the cross-entropy of 50
query images and loss.backward() to dL/dTheta for (theta0, theta2, theta9). Pixel-like inputs in
[0, 1) and 5 labels, as in the Rust bench.

Prints one JSON line {"name": "torch_autograd_unrolled", "us_per_step": ..., "peak_rss_mb": ...}.
NOTE: here "us_per_step" is microseconds per EPISODE (250 inner steps + query + backward), the unit
of the Rust bench it is compared with; peak_rss_mb is the process's peak resident set size
(ru_maxrss, including the Python and torch runtime), and "rss_before_mb" the resident size before
the first episode, so the tape's share is the difference.

Not run in CI (PyTorch is large); `cargo xtask bench compare` runs it when torch is importable.
Usage: python3 benches/reference/meta_episode.py [--episodes 3] [--threads 1]
"""

import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F

SIZES = [784, 170, 130, 100, 70, 47]
BETA = 10.0
N_TRAIN = 250
N_QUERY = 50
N_WAYS = 5


def xavier_uniform(n_out, n_in, generator):
    bound = (6.0 / (n_in + n_out)) ** 0.5
    return (torch.rand(n_out, n_in, generator=generator) * 2.0 - 1.0) * bound


def make_problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    weights = [xavier_uniform(n_out, n_in, g) for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
    feedback = [xavier_uniform(n_out, n_in, g) for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
    inputs = torch.rand(N_TRAIN + N_QUERY, SIZES[0], generator=g)
    labels = torch.arange(N_TRAIN + N_QUERY) % N_WAYS
    return weights, feedback, inputs, labels


def forward(weights, x):
    ys = [x]
    for idx, w in enumerate(weights):
        z = w @ ys[-1]
        ys.append(F.softplus(z, beta=BETA, threshold=20.0) if idx + 1 < len(weights) else torch.softmax(z, 0))
    return ys


def episode(weights0, feedback, inputs, labels, theta):
    """One unrolled episode; returns dL_query/dTheta (autograd through every step)."""
    theta0, theta2, theta9 = theta[0], theta[1], theta[2]
    weights = [w.clone() for w in weights0]
    for step in range(N_TRAIN):
        x, label = inputs[step], labels[step]
        ys = forward(weights, x)
        errors = [None] * len(ys)
        e = ys[-1] - F.one_hot(label, SIZES[-1]).to(ys[-1].dtype)
        errors[-1] = e
        for layer in range(len(weights) - 1, -1, -1):
            # Feedback stored in W's shape: the paper's B_{l+1,l} is its transpose; layer 0 is
            # the synthetic input error of Eq. 24.
            errors[layer] = (feedback[layer].t() @ errors[layer + 1]) * (1.0 - torch.exp(-BETA * ys[layer]))
        new = []
        for idx, w in enumerate(weights):
            y_prev, y, e_post, e_pre = ys[idx], ys[idx + 1], errors[idx + 1], errors[idx]
            delta = (
                -theta0 * torch.outer(e_post, y_prev)
                - theta2 * torch.outer(e_post, e_pre)
                + theta9 * torch.outer(y, y_prev - w.t() @ y)
            )
            new.append(w + delta)
        weights = new
    query_x = inputs[N_TRAIN:]
    query_y = labels[N_TRAIN:]
    h = query_x.t()
    for idx, w in enumerate(weights):
        z = w @ h
        h = F.softplus(z, beta=BETA, threshold=20.0) if idx + 1 < len(weights) else z
    loss = F.cross_entropy(h.t(), query_y)
    (grad,) = torch.autograd.grad(loss, theta)
    return grad


def rss_mb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (cargo xtask bench compare passes the Rust side's rayon pool size)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    weights, feedback, inputs, labels = make_problem()
    # Theta mid-training, as in the Rust bench: theta0 = 5e-3, theta2 = theta9 = 1e-4.
    theta = torch.tensor([5e-3, 1e-4, 1e-4], requires_grad=True)
    rss_before = rss_mb()
    episode(weights, feedback, inputs, labels, theta)  # warm-up
    start = time.perf_counter()
    for _ in range(args.episodes):
        grad = episode(weights, feedback, inputs, labels, theta)
    elapsed = time.perf_counter() - start
    assert torch.isfinite(grad).all(), "non-finite meta-gradient"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(
        json.dumps(
            {
                "name": "torch_autograd_unrolled",
                "us_per_step": round(elapsed / args.episodes * 1e6, 1),
                "peak_rss_mb": round(peak_mb, 1),
                "rss_before_mb": round(rss_before, 1),
                "unit": "us per episode",
            }
        )
    )


if __name__ == "__main__":
    main()
