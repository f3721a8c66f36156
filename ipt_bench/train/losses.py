"""Training losses: L1 to the clean image plus the patch-level supervised-contrastive loss.

The contrastive loss follows the MindSpore IPT training code (SupCon of Khosla et al.,
``contrast_mode='all'``): every decoder token (patch feature) of every image is an anchor; the
other tokens of the same image are its positives, the tokens of the other images in the batch
its negatives. Written here because timm has no SupCon loss and the patch labelling is IPT's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

CONTRASTIVE_TEMPERATURE = 0.07
CONTRASTIVE_BASE_TEMPERATURE = 0.07


@dataclass(frozen=True)
class LossTerms:
    """The total loss and its parts (``contrastive`` is 0 when unused)."""

    total: torch.Tensor
    l1: torch.Tensor
    contrastive: torch.Tensor


def patch_contrastive_loss(
    tokens: torch.Tensor,
    temperature: float = CONTRASTIVE_TEMPERATURE,
    base_temperature: float = CONTRASTIVE_BASE_TEMPERATURE,
) -> torch.Tensor:
    """SupCon loss on decoder tokens ``(B, N, D)``, labels = image index.

    ``loss = -(T / T_base) * mean_i mean_{p in P(i)} log( exp(z_i.z_p / T) / sum_{a != i} exp(z_i.z_a / T) )``
    with ``z`` the L2-normalised tokens.
    """
    batch, count, _ = tokens.shape
    if batch * count < 2 or count < 2:
        return tokens.new_zeros(())
    z = F.normalize(tokens.float().reshape(batch * count, -1), dim=1)
    logits = z @ z.T / temperature
    # Subtracting the row max changes nothing mathematically and keeps exp() finite.
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    labels = torch.arange(batch, device=tokens.device).repeat_interleave(count)
    not_self = ~torch.eye(batch * count, dtype=torch.bool, device=tokens.device)
    positive = (labels[:, None] == labels[None, :]) & not_self
    exp_logits = torch.exp(logits) * not_self
    log_prob = logits - torch.log(exp_logits.sum(dim=1, keepdim=True))
    mean_log_prob_pos = (log_prob * positive).sum(dim=1) / positive.sum(dim=1)
    return -(temperature / base_temperature) * mean_log_prob_pos.mean()


def restoration_loss(
    output: torch.Tensor,
    clean: torch.Tensor,
    tokens: torch.Tensor | None,
    contrastive_weight: float,
) -> LossTerms:
    """``L1(output, clean) + contrastive_weight * patch_contrastive_loss(tokens)``.

    ``tokens`` may be the tokens of the *global* batch (gathered over DDP ranks).
    """
    l1 = F.l1_loss(output.float(), clean.float())
    if contrastive_weight and tokens is not None:
        contrastive = patch_contrastive_loss(tokens)
        return LossTerms(l1 + contrastive_weight * contrastive, l1, contrastive)
    return LossTerms(l1, l1, l1.new_zeros(()))
