"""Train the reference GSVAE on an export and write 10,000 argmax-decoded prior samples.

    /work/torchenv/bin/python reference/gsvae/train.py --data DIR --out OUT \
        --epochs 1900 --seed 0 --threads 1 [--mu 0.1 0.1 2.5 2.5] [--n N] [--batch B]

Protocol [C §3.2, §3.3, §9]: batches of B = floor(N/25) molecules in data order
(no shuffling; a last partial batch is kept), L = floor(90/B) + 1 MC copies per
molecule, Adam(lr 1e-3, default betas/eps), loss per step =
mean over the B*L rows of (rec + KL) + (1/B) sum_b sum_k mu_k sqrt(mean_l r_k(l,b)^2),
with r_k on decoded prior samples z ~ N(0, I) (B*L rows per step).
"""

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gsvae as G                # noqa: E402
from export import read_export   # noqa: E402

# Generator streams derived from --seed (README 'Choices'): one torch.Generator each.
STREAM_INIT, STREAM_NOISE, STREAM_PRIOR, STREAM_SAMPLE = 0, 1, 2, 3


def generator(seed, stream):
    return torch.Generator().manual_seed(seed * 4 + stream)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def git_revision():
    """HEAD of the checkout this script lives in, and whether its tree has changes."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        rev = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain"],
                               capture_output=True, text=True).stdout.strip() != ""
        return rev, dirty
    except Exception:
        return None, None


HISTORY_COLUMNS = ["epoch", "loss", "elbo", "rec_atom", "rec_bond", "kl",
                   "r1", "r2", "r3", "r4", "rms1", "rms2", "rms3", "rms4", "penalty",
                   "wall_s"]


def train(data, epochs, seed, mu, n=None, batch=None, dedupe=True, log_constraints=True,
          verbose=True, history_path=None):
    """Trains one model. Returns (model, history rows, timing dict, info dict)."""
    feats = torch.from_numpy(data["features"])
    atoms = torch.from_numpy(data["atoms"].astype(np.int64))
    bonds = torch.from_numpy(data["bonds"].astype(np.int64))
    if n is not None:
        feats, atoms, bonds = feats[:n], atoms[:n], bonds[:n]
    N = feats.shape[0]
    B = batch if batch is not None else max(1, N // 25)
    L = G.mc_copies(B)
    mu_t = torch.tensor(mu, dtype=torch.float64)
    constrained = bool((mu_t > 0).any())

    torch.manual_seed(seed)
    model = G.GSVAE(feats.shape[1])
    G.glorot_init_(model, generator(seed, STREAM_INIT))
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g_noise = generator(seed, STREAM_NOISE)
    g_prior = generator(seed, STREAM_PRIOR)

    history, epoch_times = [], []
    writer = None
    if history_path:
        fh = open(history_path, "w", newline="")
        writer = csv.writer(fh)
        writer.writerow(HISTORY_COLUMNS)
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        acc = {k: 0.0 for k in HISTORY_COLUMNS[1:-1]}
        for start in range(0, N, B):
            xb = feats[start:start + B]
            b = xb.shape[0]                      # a last partial batch keeps L [dev]
            # Encoder: BN in training mode. The L copies of a molecule are
            # identical encoder inputs, so BN's batch statistics of B*L copies
            # equal those of the B rows; run it once and replicate (exact) [C §3.2].
            if dedupe and b > 1:
                m, lv = model.encoder(xb)
                m, lv = m.repeat(L, 1), lv.repeat(L, 1)          # row l*b + i
            else:
                m, lv = model.encoder(xb.repeat(L, 1))
            eps = torch.randn(b * L, G.Z_DIM, generator=g_noise)
            z = m + eps * torch.exp(0.5 * lv)                    # reparameterisation [C §3.1]
            a_log, w_log = model.decoder(z)
            ce_a, ce_b = G.reconstruction_terms(a_log, w_log, atoms[start:start + b].repeat(L, 1),
                                                bonds[start:start + b].repeat(L, 1, 1))
            kl = G.kl_term(m, lv)
            elbo = (ce_a + ce_b + kl).mean()                     # uniform weights w = 1/N [C §3.2]
            loss = elbo

            if constrained or log_constraints:
                zp = torch.randn(b * L, G.Z_DIM, generator=g_prior)   # prior samples [C §0 item 7]
                with torch.set_grad_enabled(constrained):
                    pa, pw = model.decoder(zp)
                    r = G.constraint_terms(pa, pw)                    # (b*L, 4) float64
                    rms = G.constraint_rms(r, L, b)                   # (b, 4)
                    # (N/(B L)) sum_b (1/N) sum_k mu_k L rms_k(b) = (1/b) sum_b sum_k mu_k rms_k(b)
                    penalty = (rms * mu_t).sum(1).mean()
                if constrained:
                    loss = loss + penalty.to(loss.dtype)
                acc["penalty"] += penalty.item() * b
                for k in range(4):
                    acc[f"r{k + 1}"] += r[:, k].mean().item() * b
                    acc[f"rms{k + 1}"] += rms[:, k].mean().item() * b

            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

            acc["loss"] += loss.item() * b
            acc["elbo"] += elbo.item() * b
            acc["rec_atom"] += ce_a.mean().item() * b
            acc["rec_bond"] += ce_b.mean().item() * b
            acc["kl"] += kl.mean().item() * b
        dt = time.perf_counter() - t0
        epoch_times.append(dt)
        row = {"epoch": epoch, **{k: v / N for k, v in acc.items()}, "wall_s": dt}
        if not (constrained or log_constraints):   # not computed: NaN, not 0
            for k in ["r1", "r2", "r3", "r4", "rms1", "rms2", "rms3", "rms4", "penalty"]:
                row[k] = float("nan")
        if not np.isfinite(row["loss"]):
            raise FloatingPointError(f"non-finite loss at epoch {epoch}")
        history.append(row)
        if writer:
            writer.writerow([row[c] for c in HISTORY_COLUMNS])
        if verbose:
            print(f"epoch {epoch:5d}  loss {row['loss']:.4f}  rec_atom {row['rec_atom']:.4f}  "
                  f"rec_bond {row['rec_bond']:.4f}  kl {row['kl']:.4f}  "
                  f"r=({row['r1']:.3f},{row['r2']:.3f},{row['r3']:.3f},{row['r4']:.3f})  "
                  f"epoch_wall_s {dt:.3f}", flush=True)
    if writer:
        fh.close()
    info = dict(n=N, batch=B, copies=L, batches_per_epoch=(N + B - 1) // B,
                n_features=int(feats.shape[1]), mu=list(mu), constrained=constrained,
                encoder_dedupe=dedupe, n_parameters=sum(p.numel() for p in model.parameters()))
    timing = dict(epoch_wall_s=epoch_times)
    return model, history, timing, info


@torch.no_grad()
def sample(model, seed, count=10000, chunk=1000):
    """count argmax-decoded prior samples z ~ N(0, I) [C §3.1, §5.2]."""
    model.eval()
    g = generator(seed, STREAM_SAMPLE)
    atoms, bonds = [], []
    for start in range(0, count, chunk):
        z = torch.randn(min(chunk, count - start), G.Z_DIM, generator=g)
        a, w = model.decoder(z)
        at, bt = G.decode_argmax(a, w)
        atoms.append(at)
        bonds.append(bt)
    return torch.cat(atoms).numpy(), torch.cat(bonds).numpy()


def summarise(history):
    out = {}
    for c in HISTORY_COLUMNS[1:-1]:
        vals = [h[c] for h in history]
        if all(np.isnan(vals)):
            out[c] = None
            continue
        out[c] = dict(first=vals[0], last=vals[-1], min=float(np.nanmin(vals)),
                      max=float(np.nanmax(vals)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="export directory")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--epochs", type=int, default=1900)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mu", type=float, nargs=4, default=None,
                    help="constraint weights mu1..mu4 (default: meta.json's mu, null = 0 0 0 0)")
    ap.add_argument("--n", type=int, default=None, help="use the first N molecules (default: all)")
    ap.add_argument("--batch", type=int, default=None, help="batch size (default floor(N/25))")
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--no-dedupe", action="store_true",
                    help="run the encoder on all B*L copies instead of B rows (same values)")
    ap.add_argument("--no-constraint-log", action="store_true",
                    help="with mu = 0, skip computing R1-R4 for the history")
    ap.add_argument("--save-model", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:          # already set in this process (self-test calls main() repeatedly)
        pass
    t_start = time.perf_counter()
    data = read_export(a.data)
    mu = a.mu if a.mu is not None else (data["meta"].get("mu") or [0.0, 0.0, 0.0, 0.0])
    os.makedirs(a.out, exist_ok=True)

    model, history, timing, info = train(
        data, a.epochs, a.seed, mu, n=a.n, batch=a.batch, dedupe=not a.no_dedupe,
        log_constraints=not a.no_constraint_log, verbose=not a.quiet,
        history_path=os.path.join(a.out, "history.csv"))
    t_train = time.perf_counter() - t_start
    t0 = time.perf_counter()
    s_atoms, s_bonds = sample(model, a.seed, a.samples)
    t_sample = time.perf_counter() - t0
    np.save(os.path.join(a.out, "samples_atoms.npy"), s_atoms)
    np.save(os.path.join(a.out, "samples_bonds.npy"), s_bonds)
    if a.save_model:
        torch.save(model.state_dict(), os.path.join(a.out, "model.pt"))

    rev, dirty = git_revision()
    ep = timing["epoch_wall_s"]
    prov = dict(
        implementation="reference/gsvae (independent PyTorch GSVAE)",
        torch_version=torch.__version__, numpy_version=np.__version__,
        python_version=sys.version, git_revision=rev, git_dirty=dirty,
        command=[sys.executable] + sys.argv, cpu_model=cpu_model(), cpu_count=os.cpu_count(),
        threads=a.threads, interop_threads=1, seed=a.seed,
        generator_streams="torch.Generator().manual_seed(4*seed + s): s=0 init, 1 eps, 2 prior (constraints), 3 samples",
        epochs=a.epochs, samples=a.samples, data_dir=os.path.abspath(a.data),
        data_meta=data["meta"], data_sha256=data["sha256"], **info,
        wall_s=dict(train_including_load=t_train, sampling=t_sample,
                    total=time.perf_counter() - t_start,
                    epoch_first=ep[0], epoch_median=float(np.median(ep)),
                    epoch_mean=float(np.mean(ep))),
        history_summary=summarise(history),
    )
    with open(os.path.join(a.out, "provenance.json"), "w") as f:
        json.dump(prov, f, indent=1)
    print(f"N {info['n']} B {info['batch']} L {info['copies']} F {info['n_features']} mu {mu} "
          f"threads {a.threads}: median epoch {np.median(ep):.3f} s, train {t_train:.1f} s, "
          f"sampling {t_sample:.1f} s -> {a.out}")
    return prov


if __name__ == "__main__":
    main()
