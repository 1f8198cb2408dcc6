"""Loads a case written by the Rust side (`cargo run --release -p benches --example reference_case -- DIR`)
and compares a PyTorch result with it; shared by the scripts beside this module.

A case is `DIR/<case>.json` (array names, shapes, offsets in f32s, and scalars) and `DIR/<case>.bin`
(every array as little-endian f32, row-major, one after another).
"""

import json
import os
import sys

import torch

DEFAULT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "bench-reference")


MISSING_STATUS = 2
MISMATCH_STATUS = 3


def fail(message, status):
    """Prints `message` to standard error and exits with `status`."""
    print(message, file=sys.stderr, flush=True)
    sys.exit(status)


def load(case, directory=None):
    """The case's arrays (name -> float32 tensor) and scalars (name -> float); exits with MISSING_STATUS if it is missing."""
    directory = directory or DEFAULT_DIR
    header_path = os.path.join(directory, case + ".json")
    if not os.path.exists(header_path):
        fail(
            f"no Rust reference {header_path}: run `cargo run --release -p benches --example reference_case -- {directory}` "
            "(cargo xtask bench compare does) before timing",
            MISSING_STATUS,
        )
    with open(header_path) as f:
        header = json.load(f)
    with open(os.path.join(directory, case + ".bin"), "rb") as f:
        body = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    arrays = {}
    for entry in header["arrays"]:
        shape = entry["shape"]
        count = 1
        for dim in shape:
            count *= dim
        arrays[entry["name"]] = body[entry["offset"] : entry["offset"] + count].reshape(shape).clone()
    return arrays, header["scalars"]


def layers(arrays, name):
    """The matrices `name.0`, `name.1`, ... of a case, in order."""
    out = []
    while f"{name}.{len(out)}" in arrays:
        out.append(arrays[f"{name}.{len(out)}"])
    return out


def check(what, got, want, rtol, atol):
    """Exits with MISMATCH_STATUS unless |got - want| <= atol + rtol |want| everywhere; returns the largest |got - want| / bound (the share of the tolerance used)."""
    got = torch.as_tensor(got, dtype=torch.float64)
    want = torch.as_tensor(want, dtype=torch.float64)
    if got.shape != want.shape:
        fail(f"MISMATCH {what}: shape {tuple(got.shape)} vs Rust {tuple(want.shape)}; not timing", MISMATCH_STATUS)
    bound = atol + rtol * want.abs()
    excess = ((got - want).abs() / bound).max().item() if got.numel() else 0.0
    if not excess <= 1.0:
        worst = ((got - want).abs() / bound).flatten().argmax().item()
        fail(
            f"MISMATCH {what}: |torch - Rust| exceeds atol {atol:g} + rtol {rtol:g}|Rust| "
            f"(worst at flat index {worst}: torch {got.flatten()[worst].item():.9g}, Rust {want.flatten()[worst].item():.9g}); not timing",
            MISMATCH_STATUS,
        )
    return excess
