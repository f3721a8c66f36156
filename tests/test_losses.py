"""The patch contrastive loss against a direct loop computation, and the L1 + lambda combination."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ipt_bench.train.losses import patch_contrastive_loss, restoration_loss


def supcon_by_loops(tokens: np.ndarray, temperature: float, base_temperature: float) -> float:
    """SupCon written out anchor by anchor: positives = other patches of the same image."""
    batch = tokens.shape[0]
    feats = [(b, t / np.linalg.norm(t)) for b in range(batch) for t in tokens[b]]
    per_anchor = []
    for i, (image_i, z_i) in enumerate(feats):
        denominator = sum(
            math.exp(float(z_i @ z_a) / temperature) for a, (_, z_a) in enumerate(feats) if a != i
        )
        log_probs = [
            float(z_i @ z_p) / temperature - math.log(denominator)
            for p, (image_p, z_p) in enumerate(feats)
            if p != i and image_p == image_i
        ]
        per_anchor.append(sum(log_probs) / len(log_probs))
    return -(temperature / base_temperature) * sum(per_anchor) / len(per_anchor)


@pytest.mark.parametrize(("batch", "count", "dim", "temperature"), [(3, 4, 5, 0.07), (2, 5, 3, 0.5)])
def test_contrastive_matches_loop_reference(batch: int, count: int, dim: int, temperature: float) -> None:
    tokens = np.random.default_rng(batch * 10 + count).normal(size=(batch, count, dim))
    got = patch_contrastive_loss(torch.from_numpy(tokens), temperature=temperature, base_temperature=0.07)
    expected = supcon_by_loops(tokens, temperature, 0.07)
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_contrastive_is_low_when_images_are_separated() -> None:
    # Tokens of each image point one way, images differ: the loss approaches its minimum.
    directions = torch.eye(4)[:3]
    clustered = directions[:, None, :].repeat(1, 6, 1) + 0.01 * torch.randn(
        3, 6, 4, generator=torch.Generator().manual_seed(0)
    )
    mixed = torch.randn(3, 6, 4, generator=torch.Generator().manual_seed(1))
    assert patch_contrastive_loss(clustered) < patch_contrastive_loss(mixed)


def test_contrastive_has_gradients() -> None:
    tokens = torch.randn(2, 3, 4, requires_grad=True)
    patch_contrastive_loss(tokens).backward()
    assert tokens.grad is not None and torch.isfinite(tokens.grad).all() and tokens.grad.abs().sum() > 0


def test_total_is_l1_plus_weighted_contrastive() -> None:
    gen = torch.Generator().manual_seed(3)
    out, clean = torch.rand(2, 3, 4, 4, generator=gen) * 255, torch.rand(2, 3, 4, 4, generator=gen) * 255
    tokens = torch.randn(2, 5, 6, generator=gen)
    terms = restoration_loss(out, clean, tokens, 0.1)
    l1 = float(np.abs(out.numpy() - clean.numpy()).mean())
    assert float(terms.l1) == pytest.approx(l1, rel=1e-6)
    assert float(terms.total) == pytest.approx(
        l1 + 0.1 * supcon_by_loops(tokens.numpy(), 0.07, 0.07), rel=1e-5
    )
    no_con = restoration_loss(out, clean, tokens, 0.0)
    assert float(no_con.total) == pytest.approx(l1, rel=1e-6) and float(no_con.contrastive) == 0.0
