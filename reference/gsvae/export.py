"""Reader of the reference export (`cargo xtask reproduce molvae --export-reference DIR`)
and a generator of small synthetic exports for the self-test and timings.

Export layout (README.md 'Input'): features.npy float32 (N, F); atoms.npy int8
(N, 9) over [C, O, N, F, ghost]; bonds.npy int8 (N, 9, 9) symmetric orders
0..3 with zero diagonal; smiles.txt (N lines); meta.json.
"""

import argparse
import hashlib
import json
import os

import numpy as np

CLASSES = ["C", "O", "N", "F", "ghost"]
N_NODES = 9


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_export(directory):
    """Reads and validates an export. Returns a dict with features, atoms,
    bonds, smiles, meta and the sha256 of each file read."""
    p = lambda name: os.path.join(directory, name)
    with open(p("meta.json")) as f:
        meta = json.load(f)
    features = np.load(p("features.npy"))
    atoms = np.load(p("atoms.npy"))
    bonds = np.load(p("bonds.npy"))
    with open(p("smiles.txt")) as f:
        smiles = [line.rstrip("\n") for line in f if line.strip()]

    n = meta["n"]
    def need(cond, msg):
        if not cond:
            raise ValueError(f"{directory}: {msg}")
    need(features.dtype == np.float32, f"features.npy dtype {features.dtype}, want float32")
    need(atoms.dtype == np.int8, f"atoms.npy dtype {atoms.dtype}, want int8")
    need(bonds.dtype == np.int8, f"bonds.npy dtype {bonds.dtype}, want int8")
    need(features.shape == (n, meta["n_features"]), f"features shape {features.shape}")
    need(atoms.shape == (n, N_NODES), f"atoms shape {atoms.shape}")
    need(bonds.shape == (n, N_NODES, N_NODES), f"bonds shape {bonds.shape}")
    need(len(smiles) == n, f"{len(smiles)} SMILES for n = {n}")
    need(meta.get("classes", CLASSES) == CLASSES, f"classes {meta.get('classes')}")
    need(np.isfinite(features).all(), "non-finite features")
    need(((atoms >= 0) & (atoms <= 4)).all(), "atom class outside 0..4")
    need(((bonds >= 0) & (bonds <= 3)).all(), "bond order outside 0..3")
    need((bonds == bonds.transpose(0, 2, 1)).all(), "bonds not symmetric")
    need((np.diagonal(bonds, axis1=1, axis2=2) == 0).all(), "non-zero bond diagonal")
    mu = meta.get("mu")
    need(mu is None or len(mu) == 4, f"meta mu {mu}")
    files = {name: sha256(p(name)) for name in
             ["features.npy", "atoms.npy", "bonds.npy", "smiles.txt", "meta.json"]}
    return dict(features=features, atoms=atoms, bonds=bonds, smiles=smiles, meta=meta,
                sha256=files)


# ----------------------------------------------------------------------------
# Synthetic export
# ----------------------------------------------------------------------------

# Hand-written small molecules: (SMILES, heavy atoms, bonds (i, j, order)).
# Class indices: C 0, O 1, N 2, F 3.
C, O, N, Fl = 0, 1, 2, 3
MOLECULES = [
    ("C", [C], []),
    ("N", [N], []),
    ("O", [O], []),
    ("F", [Fl], []),
    ("CC", [C, C], [(0, 1, 1)]),
    ("C=C", [C, C], [(0, 1, 2)]),
    ("C#C", [C, C], [(0, 1, 3)]),
    ("CO", [C, O], [(0, 1, 1)]),
    ("C=O", [C, O], [(0, 1, 2)]),
    ("CN", [C, N], [(0, 1, 1)]),
    ("C#N", [C, N], [(0, 1, 3)]),
    ("CF", [C, Fl], [(0, 1, 1)]),
    ("NN", [N, N], [(0, 1, 1)]),
    ("NO", [N, O], [(0, 1, 1)]),
    ("CCC", [C, C, C], [(0, 1, 1), (1, 2, 1)]),
    ("CCO", [C, C, O], [(0, 1, 1), (1, 2, 1)]),
    ("COC", [C, O, C], [(0, 1, 1), (1, 2, 1)]),
    ("CC=O", [C, C, O], [(0, 1, 1), (1, 2, 2)]),
    ("C=CC", [C, C, C], [(0, 1, 2), (1, 2, 1)]),
    ("CC#N", [C, C, N], [(0, 1, 1), (1, 2, 3)]),
    ("CC#C", [C, C, C], [(0, 1, 1), (1, 2, 3)]),
    ("NC=O", [N, C, O], [(0, 1, 1), (1, 2, 2)]),
    ("OC=O", [O, C, O], [(0, 1, 1), (1, 2, 2)]),
    ("CCF", [C, C, Fl], [(0, 1, 1), (1, 2, 1)]),
    ("C1CC1", [C, C, C], [(0, 1, 1), (1, 2, 1), (2, 0, 1)]),
    ("C1CO1", [C, C, O], [(0, 1, 1), (1, 2, 1), (2, 0, 1)]),
    ("C1CN1", [C, C, N], [(0, 1, 1), (1, 2, 1), (2, 0, 1)]),
    ("CC(C)=O", [C, C, C, O], [(0, 1, 1), (1, 2, 1), (1, 3, 2)]),
    ("CC(C)C", [C, C, C, C], [(0, 1, 1), (1, 2, 1), (1, 3, 1)]),
    ("CC(=O)O", [C, C, O, O], [(0, 1, 1), (1, 2, 2), (1, 3, 1)]),
    ("NC(N)=O", [N, C, N, O], [(0, 1, 1), (1, 2, 1), (1, 3, 2)]),
    ("COC=O", [C, O, C, O], [(0, 1, 1), (1, 2, 1), (2, 3, 2)]),
    ("C1CCC1", [C, C, C, C], [(0, 1, 1), (1, 2, 1), (2, 3, 1), (3, 0, 1)]),
    ("CCCCO", [C, C, C, C, O], [(0, 1, 1), (1, 2, 1), (2, 3, 1), (3, 4, 1)]),
]


def graph_arrays(mol):
    """(atoms int8 (9,), bonds int8 (9, 9)) of one hand-written molecule."""
    _, heavy, edges = mol
    atoms = np.full(N_NODES, 4, dtype=np.int8)
    atoms[: len(heavy)] = heavy
    bonds = np.zeros((N_NODES, N_NODES), dtype=np.int8)
    for i, j, k in edges:
        bonds[i, j] = bonds[j, i] = k
    return atoms, bonds


def toy_features(atoms, bonds, n_features, rng):
    """Stand-in for the scattering features (the real ones come from the Rust
    export): per channel, the node means of |L^k X| for k = 0..3 with L the
    degree-clamped normalised Laplacian of the bond-order adjacency [C §2.1],
    then a fixed random projection to n_features columns when n_features > 20,
    z-scored over the data set."""
    n = atoms.shape[0]
    base = np.zeros((n, 20))
    for i in range(n):
        X = np.eye(5)[atoms[i]]                      # (9, 5)
        W = bonds[i].astype(float)
        d = W.sum(1)
        Dm = np.diag(1.0 / np.sqrt(np.maximum(1.0, d)))
        L = Dm @ (np.diag(d) - W) @ Dm
        S, feats = X, []
        for _ in range(4):
            feats.append(np.abs(S).mean(0))
            S = L @ S
        base[i] = np.concatenate(feats)
    if n_features != 20:
        proj = rng.standard_normal((20, n_features)) / np.sqrt(20)
        base = np.abs(base @ proj) + 0.01 * rng.standard_normal((n, n_features))
    sd = base.std(0)
    base = (base - base.mean(0)) / np.where(sd > 0, sd, 1.0)
    return base.astype(np.float32)


def write_synthetic(directory, n=None, n_features=20, seed=0, mu=None):
    """Writes a synthetic export of n molecules (the hand-written list, cycled)."""
    rng = np.random.default_rng(seed)
    n = len(MOLECULES) if n is None else n
    mols = [MOLECULES[i % len(MOLECULES)] for i in range(n)]
    atoms = np.stack([graph_arrays(m)[0] for m in mols])
    bonds = np.stack([graph_arrays(m)[1] for m in mols])
    features = toy_features(atoms, bonds, n_features, rng)
    os.makedirs(directory, exist_ok=True)
    np.save(os.path.join(directory, "features.npy"), features)
    np.save(os.path.join(directory, "atoms.npy"), atoms)
    np.save(os.path.join(directory, "bonds.npy"), bonds)
    with open(os.path.join(directory, "smiles.txt"), "w") as f:
        f.write("".join(m[0] + "\n" for m in mols))
    meta = {"n": n, "n_features": n_features, "classes": CLASSES, "seed": seed,
            "mu": mu, "source": "synthetic (reference/gsvae/export.py)"}
    with open(os.path.join(directory, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return directory


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="write a synthetic reference export")
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    write_synthetic(a.out, a.n, a.features, a.seed)
    print(read_export(a.out)["meta"])
