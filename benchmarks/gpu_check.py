"""Paper-size IPT on CUDA in one short script (< 6 min): training step MFU in fp32 / bf16 autocast,
with and without ``torch.compile``, and tiled x2 inference (official vs blend) of a 256x256 LR
image. Writes ``gpu_check.json`` to ``$OUT`` (else ``benchmarks/results``).
Run on a GPU machine: ``python benchmarks/gpu_check.py``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from ipt_bench.models.registry import get_variant
from ipt_bench.models.tiling import tiled_forward
from ipt_bench.train.losses import restoration_loss

BATCH, STEPS = 32, 10


def sync_time(fn, repeat: int) -> float:
    fn()
    torch.cuda.synchronize()
    began = time.perf_counter()
    for _ in range(repeat):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - began) / repeat


def train_case(bf16: bool, compile_: bool) -> dict:
    torch.manual_seed(0)
    variant = get_variant("ipt-paper-con")
    model = variant.build_model([2]).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-5)
    x = torch.rand(BATCH, 3, 48, 48, device="cuda") * 255
    y = torch.rand(BATCH, 3, 96, 96, device="cuda") * 255

    def step(fwd) -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            out, tokens = fwd(x, 0, return_tokens=True)
            loss = restoration_loss(out.float(), y, tokens.float(), variant.contrastive_weight).total
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    # FLOPs counted on the eager model (the same arithmetic; the counter sees every op there)
    with FlopCounterMode(display=False) as counter:
        step(model)
    fwd = torch.compile(model) if compile_ else model
    seconds = sync_time(lambda: step(fwd), STEPS)
    return {
        "bf16": bf16,
        "compile": compile_,
        "batch": BATCH,
        "seconds_per_step": seconds,
        "tflops_per_s": counter.get_total_flops() / seconds / 1e12,
        "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30,
    }


def tiling_case(mode: str, bf16: bool) -> dict:
    torch.manual_seed(0)
    model = get_variant("ipt-paper-con").build_model([2]).cuda().eval()
    x = torch.rand(1, 3, 256, 256, device="cuda") * 255

    def run() -> None:
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            tiled_forward(lambda b: model(b, 0), x, tile=48, scale=2, mode=mode, tile_batch=64)

    return {"mode": mode, "bf16": bf16, "seconds_per_image": sync_time(run, 2)}


def main() -> None:
    started = time.perf_counter()
    result: dict = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "train": [],
        "tiling": [],
    }
    for bf16, compile_ in ((False, False), (True, False), (True, True)):
        try:
            result["train"].append(train_case(bf16, compile_))
        except Exception as exc:
            result["train"].append({"bf16": bf16, "compile": compile_, "error": repr(exc)[:500]})
        print(result["train"][-1], flush=True)
    for mode in ("official", "blend"):
        for bf16 in (False, True):
            result["tiling"].append(tiling_case(mode, bf16))
            print(result["tiling"][-1], flush=True)
    result["wall_seconds"] = time.perf_counter() - started
    out = Path(os.environ.get("OUT") or Path(__file__).resolve().parent / "results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {out / 'gpu_check.json'}")


if __name__ == "__main__":
    main()
