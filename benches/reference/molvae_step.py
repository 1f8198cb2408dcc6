"""PyTorch reference for the criterion bench `mol_vae/molvae_step/24` (benches/benches/mol_vae.rs).

One GSVAE training step at the paper's sizes (digest molecular.md §3): B = 24 molecules, L = 4
Monte-Carlo copies (N = 600), 9,425 non-negative input features, f32, Adam(lr = 1e-3) included.

    encoder: BN(9425) -> Linear(9425, 400) -> BN(400) -> ReLU -> {Linear(400, 30) = mu, Linear(400, 30) = logvar}
    decoder: z -> 60 -> 120 -> 240 -> 288 (LeakyReLU 0.01 each) -> H (9 nodes, 4 bond classes, 8)
             bond logits W_t = LeakyReLU(H_t H_t^T) (9 x 9 x 4, symmetric)
             atom logits = LeakyReLU(Linear(354, 45)([softmax_t(W) flattened (324) || z])) -> 9 x 5
    loss:    mean over the B*L rows of  sum_v CE(atoms) + sum_{u<v} CE(bonds) + KL(q || N(0, I))

Two variants, each printed as one JSON line {"name": ..., "us_per_step": ..., "threads": ...}:
  - "torch_molvae_step" (the strongest, the one the target refers to): the encoder runs once on the
    B molecules and (mu, logvar) are repeated L times, exactly as the Rust step does (BatchNorm
    statistics of L identical copies equal those of one copy, so the loss and gradients are the same
    as the code's); Adam with fused=True (one kernel over all parameters, in place), gradients set
    to None rather than zeroed;
  - "torch_molvae_step_code" (as the published code writes it): the encoder on all B*L replicated
    rows, the default (for-each) Adam.

Threads: torch.set_num_threads(--threads); OMP_WAIT_POLICY=PASSIVE is set before torch is imported
(unless the environment sets it).

Correctness first: each variant loads the bench's own problem from the Rust reference case
`molvae_step_24` (`cargo run --release -p benches --example reference_case -- DIR`, which
`cargo xtask bench compare` runs first): every parameter, the 24 feature columns, the target graphs,
and the reparameterisation noise of the Rust step's first two training steps. It runs those two
steps with that noise (the second after one Adam step on the first's gradient) and compares both
losses with Rust's (rtol RTOL); on a mismatch it exits non-zero and times nothing. The timed steps
then run on the same problem with noise from torch's generator.

Not run in CI (PyTorch is large); `cargo xtask bench compare` runs it when torch is importable.
Usage: python3 benches/reference/molvae_step.py [--steps 200] [--threads 1] [--reference DIR]
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import _rust_reference as rust  # noqa: E402

N_FEATURES = 9425
N_HIDDEN = 400
N_LATENT = 30
N_NODES = 9
N_BOND = 4
N_ATOM = 5
EMBED = 8
WIDTHS = [60, 120, 240, 288]
BATCH = 24
N_COPIES = 90 // BATCH + 1  # L = 4
SLOPE = 0.01
# Relative tolerance on the loss: f32 sums over 9,425 features and 96 rows, in another order.
RTOL = 1e-4

def glorot_(linear):
    """Glorot-uniform weights and biases, as the paper's `weights_init`."""
    bound = (6.0 / (linear.in_features + linear.out_features)) ** 0.5
    nn.init.uniform_(linear.weight, -bound, bound)
    nn.init.uniform_(linear.bias, -bound, bound)


class GsVae(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn_in = nn.BatchNorm1d(N_FEATURES)
        self.fc1 = nn.Linear(N_FEATURES, N_HIDDEN)
        self.bn_hidden = nn.BatchNorm1d(N_HIDDEN)
        self.fc_mu = nn.Linear(N_HIDDEN, N_LATENT)
        self.fc_logvar = nn.Linear(N_HIDDEN, N_LATENT)
        sizes = [N_LATENT] + WIDTHS
        self.decoder = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.atom_head = nn.Linear(N_NODES * N_NODES * N_BOND + N_LATENT, N_NODES * N_ATOM)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                glorot_(module)

    def encode(self, x):
        h = F.relu(self.bn_hidden(self.fc1(self.bn_in(x))))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z):
        h = z
        for layer in self.decoder:
            h = F.leaky_relu(layer(h), SLOPE)
        h = h.view(-1, N_NODES, N_BOND, EMBED).permute(0, 2, 1, 3)  # (R, t, v, e)
        w = F.leaky_relu(h @ h.transpose(-1, -2), SLOPE)  # (R, t, u, v)
        bond_logits = w.permute(0, 2, 3, 1)  # (R, u, v, t)
        probs = torch.softmax(bond_logits, dim=-1).reshape(z.shape[0], -1)
        atom_logits = F.leaky_relu(self.atom_head(torch.cat([probs, z], dim=1)), SLOPE)
        return atom_logits.view(-1, N_NODES, N_ATOM), bond_logits


def load_problem(arrays):
    """The bench's features (B x 9425), atom classes (B x 9) and bond classes (B x 9 x 9) from the Rust case."""
    return arrays["features"], arrays["atoms"].long(), arrays["bonds"].long()


def load_parameters(model, arrays, scalars):
    """Copies every Rust parameter into `model`, and Rust's BatchNorm eps and momentum."""
    pairs = [
        (model.bn_in.weight, "input_norm.gamma"),
        (model.bn_in.bias, "input_norm.beta"),
        (model.fc1.weight, "hidden.weight"),
        (model.fc1.bias, "hidden.bias"),
        (model.bn_hidden.weight, "hidden_norm.gamma"),
        (model.bn_hidden.bias, "hidden_norm.beta"),
        (model.fc_mu.weight, "mean.weight"),
        (model.fc_mu.bias, "mean.bias"),
        (model.fc_logvar.weight, "log_var.weight"),
        (model.fc_logvar.bias, "log_var.bias"),
        (model.atom_head.weight, "atom_head.weight"),
        (model.atom_head.bias, "atom_head.bias"),
    ]
    for idx, layer in enumerate(model.decoder):
        pairs += [(layer.weight, f"decoder.{idx}.weight"), (layer.bias, f"decoder.{idx}.bias")]
    with torch.no_grad():
        for param, name in pairs:
            if tuple(param.shape) != tuple(arrays[name].shape):
                rust.fail(f"MISMATCH {name}: shape {tuple(param.shape)} vs Rust {tuple(arrays[name].shape)}; not timing", rust.MISMATCH_STATUS)
            param.copy_(arrays[name])
    for bn in (model.bn_in, model.bn_hidden):
        bn.eps = scalars["bn_eps"]
        bn.momentum = scalars["bn_momentum"]


UPPER = torch.triu_indices(N_NODES, N_NODES, offset=1)


def loss_fn(model, x, atoms, bonds, dedupe, noise=None):
    """The mean over the B*L rows of reconstruction + KL; `noise` (B*L x 30, row l*B + b) or torch's own draw."""
    if dedupe:
        mu, logvar = model.encode(x)
        mu, logvar = mu.repeat(N_COPIES, 1), logvar.repeat(N_COPIES, 1)
    else:
        mu, logvar = model.encode(x.repeat(N_COPIES, 1))
    noise = torch.randn_like(mu) if noise is None else noise
    z = mu + noise * torch.exp(0.5 * logvar)
    atom_logits, bond_logits = model.decode(z)
    atoms, bonds = atoms.repeat(N_COPIES, 1), bonds.repeat(N_COPIES, 1, 1)
    rows = z.shape[0]
    atom_ce = F.cross_entropy(atom_logits.reshape(-1, N_ATOM), atoms.reshape(-1), reduction="sum")
    pair_logits = bond_logits[:, UPPER[0], UPPER[1], :]
    pair_targets = bonds[:, UPPER[0], UPPER[1]]
    bond_ce = F.cross_entropy(pair_logits.reshape(-1, N_BOND), pair_targets.reshape(-1), reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (atom_ce + bond_ce + kl) / rows


def time_variant(name, dedupe, fused, n_steps, threads, arrays, scalars):
    torch.manual_seed(0)
    model = GsVae()
    load_parameters(model, arrays, scalars)
    model.train()
    optimizer = torch.optim.Adam(
        model.parameters(),
        lr=scalars["lr"],
        betas=(scalars["beta1"], scalars["beta2"]),
        eps=scalars["adam_eps"],
        fused=fused,
    )
    x, atoms, bonds = load_problem(arrays)

    def step(noise=None):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model, x, atoms, bonds, dedupe, noise)
        loss.backward()
        optimizer.step()
        return loss

    used = 0.0
    for k in range(int(scalars["steps"])):
        loss = step(arrays[f"epsilon.{k}"])
        used = max(used, rust.check(f"{name} loss of step {k}", loss.detach(), torch.tensor(scalars[f"loss.{k}"]), RTOL, 0.0))
    for _ in range(10):
        step()
    start = time.perf_counter()
    for _ in range(n_steps):
        loss = step()
    elapsed = time.perf_counter() - start
    assert torch.isfinite(loss)
    print(json.dumps({"name": name, "us_per_step": round(elapsed / n_steps * 1e6, 2), "threads": threads, "checked": "loss of two steps vs Rust", "tolerance_used": round(used, 3)}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (cargo xtask bench compare passes the Rust side's rayon pool size)")
    parser.add_argument("--reference", default=None, help="directory of the Rust reference cases")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    arrays, scalars = rust.load("molvae_step_24", args.reference)
    if int(scalars["n_samples"]) != N_COPIES or abs(scalars["leaky_slope"] - SLOPE) > 0:
        rust.fail("MISMATCH the Rust case's L or LeakyReLU slope differs from this script's; not timing", rust.MISMATCH_STATUS)
    time_variant("torch_molvae_step", True, True, args.steps, args.threads, arrays, scalars)
    time_variant("torch_molvae_step_code", False, None, args.steps, args.threads, arrays, scalars)


if __name__ == "__main__":
    main()
