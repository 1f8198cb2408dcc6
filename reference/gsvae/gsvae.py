"""Independent PyTorch reference of the graph-scattering VAE (GSVAE) of
Shervani-Tabar & Zabaras (arXiv:2009.13878), written from the project's
digest `shared/papers/molecular.md` (cited as [C §x]) and the GSVAE entries of
`docs/deviations.md` (cited as [dev: ...]), not from the Rust code.

Shapes: R = rows (molecules x MC copies), n = 9 nodes, 5 atom classes
[C, O, N, F, ghost], 4 bond classes [none, single, double, triple].
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

N_NODES = 9          # [C §1] max 9 heavy atoms, padded with ghosts
N_ATOM = 5           # [C §1] classes C, O, N, F, ghost
N_BOND = 4           # [C §1] bond orders 0..3
Z_DIM = 30           # [C §3.1]
HIDDEN = 400         # [C §3.1]
H_WIDTH = 8          # [C §3.1] reshape (9, 4, 8)
LRELU = 0.01         # [C §3.1] LeakyReLU slope
VALENCE = (4.0, 2.0, 3.0, 1.0, 0.0)   # [C §3.2] R1: C4, O2, N3, F1, ghost 0
SIGMOID_SHARPNESS = 100.0             # [C §3.2] R2: sigma(100(x - 0.5))

_IU = torch.triu_indices(N_NODES, N_NODES, offset=1)  # the 36 pairs u < v, row-major


def mc_copies(batch_size: int) -> int:
    """L = floor(90 / B) + 1 reparameterised samples per datum [C §0 item 6, §3.3]."""
    return 90 // batch_size + 1


# ----------------------------------------------------------------------------
# Model [C §3.1]
# ----------------------------------------------------------------------------

class Encoder(nn.Module):
    """x (F) -> BN(F) -> Linear(F, 400) -> BN(400) -> ReLU -> {Linear(400, 30) = mu,
    Linear(400, 30) = log sigma^2}  [C §3.1, §3.3 'HEAD' column]."""

    def __init__(self, n_features: int):
        super().__init__()
        self.bn_in = nn.BatchNorm1d(n_features)
        self.fc = nn.Linear(n_features, HIDDEN)
        self.bn_h = nn.BatchNorm1d(HIDDEN)
        self.fc_mu = nn.Linear(HIDDEN, Z_DIM)
        self.fc_logvar = nn.Linear(HIDDEN, Z_DIM)

    def forward(self, x):
        h = F.relu(self.bn_h(self.fc(self.bn_in(x))))
        return self.fc_mu(h), self.fc_logvar(h)


class Decoder(nn.Module):
    """One-shot decoder p(A|z) p(F|A,z) [C §0 item 5, §3.1].

    Adjacency net: z -> 60 -> 120 -> 240 -> 288, LeakyReLU(0.01) after each
    Linear (the last included), reshape (9, 4, 8) = H[v, t, :]; per bond
    class t the logits are W_t = LeakyReLU(H_t H_t^T) (9x9, symmetric).
    Atom net: softmax over bond classes of W (9x9x4), flattened with index
    (u*9 + v)*4 + t [dev: flattening], concatenated with z (P first, then z),
    Linear(354, 45) -> LeakyReLU -> reshape (9, 5) (index v*5 + c).
    """

    def __init__(self):
        super().__init__()
        widths = [Z_DIM, 60, 120, 240, N_NODES * N_BOND * H_WIDTH]
        self.adj = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.atom = nn.Linear(N_NODES * N_NODES * N_BOND + Z_DIM, N_NODES * N_ATOM)

    def forward(self, z):
        """Returns (atom_logits (R, 9, 5), bond_logits (R, 9, 9, 4))."""
        h = z
        for layer in self.adj:
            h = F.leaky_relu(layer(h), LRELU)
        rows = z.shape[0]
        H = h.view(rows, N_NODES, N_BOND, H_WIDTH).permute(0, 2, 1, 3)      # (R, t, v, 8)
        W = F.leaky_relu(H @ H.transpose(-1, -2), LRELU)                      # (R, t, 9, 9)
        W = W.permute(0, 2, 3, 1).contiguous()                                # (R, u, v, t)
        P = torch.softmax(W, dim=-1).reshape(rows, -1)                        # (u*9+v)*4+t
        a = F.leaky_relu(self.atom(torch.cat([P, z], dim=1)), LRELU)
        return a.view(rows, N_NODES, N_ATOM), W


class GSVAE(nn.Module):
    def __init__(self, n_features: int):
        super().__init__()
        self.encoder = Encoder(n_features)
        self.decoder = Decoder()


def glorot_init_(model: nn.Module, generator: torch.Generator):
    """Linear weights AND biases ~ U(+-sqrt(6/(fan_in + fan_out))); BN gamma = 1,
    beta = 0 [C §3.1 'init']. Layers are initialised in module registration
    order (encoder: bn_in, fc, bn_h, fc_mu, fc_logvar; decoder: adj[0..3], atom),
    weight before bias, from one generator."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                bound = math.sqrt(6.0 / (m.in_features + m.out_features))
                m.weight.uniform_(-bound, bound, generator=generator)
                m.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(m, nn.BatchNorm1d):
                m.weight.fill_(1.0)
                m.bias.fill_(0.0)
                m.reset_running_stats()


# ----------------------------------------------------------------------------
# Objective [C §3.2]
# ----------------------------------------------------------------------------

def reconstruction_terms(atom_logits, bond_logits, atoms, bonds):
    """Per-row cross entropies, SUMMED (not averaged) [C §3.2, §9]:
    atom term = sum over the 9 nodes of CE(atom_logits_v, a_v);
    bond term = sum over the 36 pairs u < v of CE(W_uv,:, b_uv) (diagonal and
    lower triangle ignored). Returns two tensors of shape (R,)."""
    rows = atom_logits.shape[0]
    ce_atom = F.cross_entropy(atom_logits.reshape(-1, N_ATOM), atoms.reshape(-1),
                              reduction="none").view(rows, N_NODES).sum(1)
    u, v = _IU
    ce_bond = F.cross_entropy(bond_logits[:, u, v, :].reshape(-1, N_BOND),
                              bonds[:, u, v].reshape(-1),
                              reduction="none").view(rows, -1).sum(1)
    return ce_atom, ce_bond


def kl_term(mu, logvar):
    """KL(q(z|x) || N(0, I)) = -1/2 sum_k (1 + log s2_k - mu_k^2 - s2_k) per row [C §3.2]."""
    return -0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(1)


def constraint_terms(atom_logits, bond_logits):
    """The four soft penalties r1..r4 per row [C §3.2 'Constraint definitions'],
    with R4 as the project specifies it [dev: 'R4 uses a saturated walk count'].
    Computed in float64 [dev: 'R1-R4 ... computed in f64'].
    Inputs are the decoder outputs of PRIOR samples. Returns (R, 4)."""
    atom_logits = atom_logits.double()
    bond_logits = bond_logits.double()
    n = N_NODES
    PF = torch.softmax(atom_logits, -1)                                   # (R, 9, 5)
    PA = torch.softmax(bond_logits, -1)                                   # (R, 9, 9, 4)
    eye = torch.eye(n, dtype=PA.dtype)
    off = 1.0 - eye
    u, v = _IU

    # R1 ghost + valence: E_uv = sum_t t P^A_uvt, V_u = sum_{v != u} E_uv,
    # U_u = sum_k val_k P^F_uk, r1 = sum_u ReLU(V_u - U_u).
    orders = torch.arange(N_BOND, dtype=PA.dtype)
    E = (PA * orders).sum(-1) * off
    V = E.sum(-1)
    U = PF @ torch.tensor(VALENCE, dtype=PA.dtype)
    r1 = F.relu(V - U).sum(-1)

    # Soft adjacency A_uv = 1 - P^A_uv0, zero diagonal.
    A = (1.0 - PA[..., 0]) * off                                          # (R, 9, 9)

    # R2 connectivity: q_u = 1 - P^F_u,ghost; At_1 = A,
    # At_k = sigma(100 (At_{k-1} A - 0.5)) for k = 2..n; B = I + sum_{k=2}^{n} At_k;
    # C = sigma(100 (B - 0.5)); r2 = sum_{u<v} q_u q_v (1 - C_uv) + (1 - q_u q_v) C_uv.
    q = 1.0 - PF[..., N_ATOM - 1]
    At = A
    Bsum = eye.expand_as(A)
    for _ in range(2, n + 1):
        At = torch.sigmoid(SIGMOID_SHARPNESS * (At @ A - 0.5))
        Bsum = Bsum + At
    C = torch.sigmoid(SIGMOID_SHARPNESS * (Bsum - 0.5))
    qq = q[:, :, None] * q[:, None, :]
    r2 = (qq * (1.0 - C) + (1.0 - qq) * C)[:, u, v].sum(-1)

    # R3 expected 3-rings: tr(A^3) / 6.
    r3 = torch.diagonal(A @ A @ A, dim1=-2, dim2=-1).sum(-1) / 6.0

    # R4 triple bond on a cycle, walk-sum form [dev]: for each pair u < v,
    # B^(uv) = A with (u,v), (v,u) zeroed; s = sum_{k=2}^{n-1} (B^(uv)^k)_uv;
    # c_uv = s / (1 + s); r4 = sum_{u<v} P^A_uv3 c_uv.
    npair = u.numel()
    mask = torch.ones(npair, n, n, dtype=PA.dtype)
    pidx = torch.arange(npair)
    mask[pidx, u, v] = 0.0
    mask[pidx, v, u] = 0.0
    Bm = A[:, None, :, :] * mask                                          # (R, 36, 9, 9)
    power = Bm
    s = torch.zeros(A.shape[0], npair, dtype=PA.dtype)
    for _ in range(2, n):                                                 # k = 2..8
        power = power @ Bm
        s = s + power[:, pidx, u, v]
    c = s / (1.0 + s)
    r4 = (PA[:, u, v, 3] * c).sum(-1)

    return torch.stack([r1, r2, r3, r4], dim=1)


def safe_sqrt(x):
    """sqrt with gradient 0 (not NaN) at x = 0 [dev: 'When all of a molecule
    slot's r_k over its L copies are 0']."""
    pos = x > 0
    return torch.where(pos, torch.sqrt(torch.where(pos, x, torch.ones_like(x))),
                       torch.zeros_like(x))


def constraint_rms(r, copies: int, batch: int):
    """r: (L*B, 4), row index l*B + b. Returns sqrt(mean_l r_k(l, b)^2), shape
    (B, 4); rho_k(b) = L times this [C §3.2]."""
    r = r.view(copies, batch, -1)
    return safe_sqrt(r.pow(2).mean(0))


def decode_argmax(atom_logits, bond_logits):
    """Argmax decoding [C §3.1 'decoding at sample time', §5.2]: atom class =
    argmax over the 5 atom logits per node; bond = argmax over the 4 bond-class
    logits for each pair u < v, mirrored to (v, u); diagonal 0. torch.argmax
    returns the first maximal index on ties. Returns int8 arrays."""
    atoms = atom_logits.argmax(-1).to(torch.int8)
    rows = bond_logits.shape[0]
    u, v = _IU
    upper = bond_logits[:, u, v, :].argmax(-1).to(torch.int8)
    bonds = torch.zeros(rows, N_NODES, N_NODES, dtype=torch.int8)
    bonds[:, u, v] = upper
    bonds[:, v, u] = upper
    return atoms, bonds
