"""Self-test of the reference GSVAE (CPU, about a minute on one core).

    /work/torchenv/bin/python reference/gsvae/selftest.py [--keep DIR]

Checks: export round trip; R1-R4 on crisp hand-made graphs; finite gradients
of the RMS aggregation at r = 0; a short training lowers the loss (base and
constrained); sample files have the right shapes, dtypes, ranges, symmetry and
zero diagonal; the same seed gives identical samples and history twice, another
seed different samples; one-epoch wall time at 1 and 2 threads.
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gsvae as G                                   # noqa: E402
import export as X                                  # noqa: E402
import train as T                                   # noqa: E402

FAILS = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg, flush=True)
    if not cond:
        FAILS.append(msg)


def crisp_logits(atoms, bonds, margin=40.0):
    """Decoder-like logits (1, 9, 5), (1, 9, 9, 4) whose softmax is ~one-hot at the given graph."""
    a = torch.zeros(1, 9, 5, dtype=torch.float64)
    a[0, torch.arange(9), torch.as_tensor(atoms, dtype=torch.long)] = margin
    w = torch.zeros(1, 9, 9, 4, dtype=torch.float64)
    b = torch.as_tensor(bonds, dtype=torch.long)
    w[0].scatter_(-1, b[..., None], margin)
    return a, w


def graph(heavy, edges):
    return X.graph_arrays(("", heavy, edges))


def test_constraints():
    C, O, N = 0, 1, 2
    cases = {
        "ethanol": graph([C, C, O], [(0, 1, 1), (1, 2, 1)]),
        "cyclopropane": graph([C, C, C], [(0, 1, 1), (1, 2, 1), (2, 0, 1)]),
        "benzene-kekule": graph([C] * 6, [(i, (i + 1) % 6, 1 + (i % 2)) for i in range(6)]),
        "cyclohexyne-like 6-ring with a triple": graph([C] * 6, [(0, 1, 3)] + [(i, i + 1, 1) for i in range(1, 5)] + [(5, 0, 1)]),
        "propyne (chain triple)": graph([C, C, C], [(0, 1, 3), (1, 2, 1)]),
        "over-valent O": graph([C, O, C, C], [(0, 1, 1), (1, 2, 1), (1, 3, 1)]),
        "two fragments": graph([C, C, O], [(0, 1, 1)]),
        "bonded ghost": (np.array([0, 4, 4, 4, 4, 4, 4, 4, 4], np.int8),
                         graph([C], [(0, 1, 1)])[1]),
    }
    r = {k: G.constraint_terms(*crisp_logits(*v))[0].tolist() for k, v in cases.items()}
    for k, v in r.items():
        print(f"     {k:40s} r1 {v[0]:.4f}  r2 {v[1]:.4f}  r3 {v[2]:.4f}  r4 {v[3]:.4f}")
    close = lambda x, y, tol=1e-6: abs(x - y) < tol
    check(all(close(x, 0) for x in r["ethanol"]), "ethanol: r1 = r2 = r3 = r4 = 0")
    check(close(r["cyclopropane"][2], 1.0) and close(r["cyclopropane"][1], 0), "cyclopropane: r3 = 1, r2 = 0")
    check(close(r["benzene-kekule"][2], 0) and close(r["benzene-kekule"][0], 0), "Kekule benzene: r1 = 0, r3 = 0")
    check(close(r["cyclohexyne-like 6-ring with a triple"][3], 6 / 7),
          "triple bond on a 6-ring: r4 = 6/7 (walk count s = 6 for a crisp 6-ring)")
    check(close(r["propyne (chain triple)"][3], 0), "triple bond on a chain: r4 = 0")
    check(close(r["over-valent O"][0], 1.0), "O with 3 single bonds: r1 = 1")
    check(close(r["two fragments"][1], 2.0), "C-C + isolated O: r2 = 2 (two disconnected heavy pairs)")
    check(r["bonded ghost"][0] > 0.99 and r["bonded ghost"][1] > 0.99, "ghost bonded to C: r1 = 1, r2 = 1")

    # Gradient of the RMS aggregation where every copy has r = 0 is 0, not NaN.
    z = torch.zeros(6, 4, dtype=torch.float64, requires_grad=True)
    G.constraint_rms(z * 1.0, 3, 2).sum().backward()
    check(torch.isfinite(z.grad).all().item() and (z.grad == 0).all().item(), "RMS of all-zero r: gradient 0")

    # Gradients through R1-R4 from a random decoder are finite.
    torch.manual_seed(0)
    dec = G.Decoder()
    a, w = dec(torch.randn(5, G.Z_DIM))
    rr = G.constraint_terms(a, w)
    rr.sum().backward()
    check(all(torch.isfinite(p.grad).all().item() for p in dec.parameters()), "R1-R4 gradients finite")
    check(rr.shape == (5, 4) and (rr >= 0).all().item(), "R1-R4 non-negative, shape (R, 4)")


def test_model_shapes():
    m = G.GSVAE(20)
    G.glorot_init_(m, torch.Generator().manual_seed(0))
    n_par = sum(p.numel() for p in m.parameters())
    m9425 = sum(p.numel() for p in G.GSVAE(9425).parameters())
    check(m9425 == 3937713, f"parameter count at F = 9425 is {m9425} (digest: 3,937,713)")
    a, w = m.decoder(torch.randn(3, G.Z_DIM))
    check(a.shape == (3, 9, 5) and w.shape == (3, 9, 9, 4), "decoder output shapes")
    check(torch.allclose(w, w.transpose(1, 2)), "bond logits symmetric")
    check(G.mc_copies(24) == 4 and G.mc_copies(8) == 12 and G.mc_copies(120) == 1, "L = floor(90/B) + 1")
    b = (6.0 / (9425 + 400)) ** 0.5
    fc = G.GSVAE(9425)
    G.glorot_init_(fc, torch.Generator().manual_seed(1))
    wmax = fc.encoder.fc.weight.abs().max().item()
    bmax = fc.encoder.fc.bias.abs().max().item()
    check(wmax <= b and wmax > 0.99 * b and bmax <= b and bmax > 0.9 * b,
          "Glorot-uniform bound on weights and biases")
    del n_par


def run_train(data_dir, out, epochs, seed, extra=()):
    argv = ["--data", data_dir, "--out", out, "--epochs", str(epochs), "--seed", str(seed),
            "--threads", "1", "--quiet", "--batch", "6"] + list(extra)
    return T.main(argv)


def test_training(tmp, keep):
    data_dir = X.write_synthetic(os.path.join(tmp, "export"), seed=0)
    d = X.read_export(data_dir)
    mols = [X.graph_arrays(m) for m in X.MOLECULES]
    check((d["atoms"] == np.stack([m[0] for m in mols])).all()
          and (d["bonds"] == np.stack([m[1] for m in mols])).all()
          and d["features"].shape == (len(mols), 20) and len(d["smiles"]) == len(mols),
          f"synthetic export round trip ({len(mols)} molecules)")

    # Base model.
    out = os.path.join(keep or tmp, "base")
    prov = run_train(data_dir, out, 60, seed=0)
    hs = prov["history_summary"]
    print(f"     base: loss epoch 1 {hs['loss']['first']:.3f} -> epoch 60 {hs['loss']['last']:.3f}; "
          f"rec_atom {hs['rec_atom']['first']:.3f} -> {hs['rec_atom']['last']:.3f}; "
          f"rec_bond {hs['rec_bond']['first']:.3f} -> {hs['rec_bond']['last']:.3f}; "
          f"kl {hs['kl']['first']:.3f} -> {hs['kl']['last']:.3f}")
    check(hs["loss"]["last"] < 0.5 * hs["loss"]["first"], "base: loss falls by more than half in 60 epochs")
    sa = np.load(os.path.join(out, "samples_atoms.npy"))
    sb = np.load(os.path.join(out, "samples_bonds.npy"))
    check(sa.dtype == np.int8 and sa.shape == (10000, 9), f"samples_atoms int8 (10000, 9): {sa.dtype} {sa.shape}")
    check(sb.dtype == np.int8 and sb.shape == (10000, 9, 9), f"samples_bonds int8 (10000, 9, 9): {sb.dtype} {sb.shape}")
    check(((sa >= 0) & (sa <= 4)).all() and ((sb >= 0) & (sb <= 3)).all(), "sample classes in range")
    check((sb == sb.transpose(0, 2, 1)).all() and (np.diagonal(sb, axis1=1, axis2=2) == 0).all(),
          "sample bonds symmetric with zero diagonal")
    for f in ["history.csv", "provenance.json"]:
        check(os.path.exists(os.path.join(out, f)), f"{f} written")
    with open(os.path.join(out, "history.csv")) as f:
        check(len(f.readlines()) == 61, "history.csv has one row per epoch")
    heavy = (sa != 4).sum(1)
    print(f"     base samples: mean heavy atoms {heavy.mean():.2f}; class frequencies "
          f"{np.bincount(sa.ravel(), minlength=5) / sa.size}")

    # Constrained model.
    outc = os.path.join(keep or tmp, "constrained")
    provc = run_train(data_dir, outc, 30, seed=0, extra=["--mu", "0.1", "0.1", "2.5", "2.5"])
    hc = provc["history_summary"]
    print(f"     constrained: loss {hc['loss']['first']:.3f} -> {hc['loss']['last']:.3f}; "
          f"penalty {hc['penalty']['first']:.3f} -> {hc['penalty']['last']:.3f}; "
          f"r3 {hc['r3']['first']:.3f} -> {hc['r3']['last']:.3f}; r4 {hc['r4']['first']:.3f} -> {hc['r4']['last']:.3f}")
    check(hc["loss"]["last"] < 0.5 * hc["loss"]["first"], "constrained: loss falls by more than half in 30 epochs")
    check(hc["penalty"]["last"] < hc["penalty"]["first"], "constrained: penalty falls")

    # Determinism.
    o1, o2, o3 = (os.path.join(tmp, f"det{i}") for i in range(3))
    for o, s in [(o1, 7), (o2, 7), (o3, 8)]:
        run_train(data_dir, o, 5, seed=s, extra=["--mu", "0.1", "0.1", "2.5", "2.5"])
    same = all((np.load(os.path.join(o1, f)) == np.load(os.path.join(o2, f))).all()
               for f in ["samples_atoms.npy", "samples_bonds.npy"])
    h1 = np.loadtxt(os.path.join(o1, "history.csv"), delimiter=",", skiprows=1)[:, :-1]
    h2 = np.loadtxt(os.path.join(o2, "history.csv"), delimiter=",", skiprows=1)[:, :-1]
    check(same and (h1 == h2).all(), "same seed twice: identical samples and loss history")
    diff = not (np.load(os.path.join(o1, "samples_bonds.npy")) == np.load(os.path.join(o3, "samples_bonds.npy"))).all()
    check(diff, "another seed: different samples")

    # Dedupe of the encoder over the L copies is exact in training mode.
    torch.manual_seed(0)
    enc = G.Encoder(20).train()
    xb = torch.from_numpy(d["features"][:6])
    m1, v1 = enc(xb)
    m2, v2 = enc(xb.repeat(4, 1))
    check(torch.allclose(m1.repeat(4, 1), m2, atol=1e-5) and torch.allclose(v1.repeat(4, 1), v2, atol=1e-5),
          "encoder on B rows then replicated = encoder on B*L copies (train-mode BN)")


def time_epochs(tmp):
    data_dir = os.path.join(tmp, "export")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        out = os.path.join(tmp, f"time{threads}")
        prov = run_train(data_dir, out, 3, seed=0, extra=["--threads", str(threads), "--samples", "100"])
        ep = prov["history_summary"]
        times = np.loadtxt(os.path.join(out, "history.csv"), delimiter=",", skiprows=1)[:, -1]
        print(f"     one epoch at N = {prov['n']}, B = {prov['batch']}, L = {prov['copies']}, F = {prov['n_features']}, "
              f"{threads} thread(s): {', '.join(f'{t:.3f}' for t in times)} s (3 epochs, base model, constraints logged)")
        del ep
    torch.set_num_threads(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", default=None, help="keep the base/constrained outputs here")
    a = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        test_model_shapes()
        test_constraints()
        test_training(tmp, a.keep)
        time_epochs(tmp)
    print(f"{'PASS' if not FAILS else 'FAIL'}: {len(FAILS)} failure(s) in {time.perf_counter() - t0:.1f} s")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
