"""The trainer's AdamW is torch's fused AdamW without torch.optim: the same updates bit for bit, the same
state format (checkpoints written by either resume with either), and no torch._dynamo import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.config import ModelConfig, TrainConfig
from core.model.gpt import GPT
from core.training.batches import compute_loss
from core.training.optim import adamw

CFG = ModelConfig(vocab_size=20, n_layer=1, n_head=2, n_embd=16, block_size=8)
TC = TrainConfig(lr=3e-3, weight_decay=0.1)


def _torch_adamw(model: GPT) -> torch.optim.AdamW:
    """What core.training.optim built before it had its own class."""
    ours = adamw(model, TC)
    groups = [{"params": g["params"], "weight_decay": g["weight_decay"]} for g in ours.param_groups]
    return torch.optim.AdamW(groups, lr=TC.lr, betas=(0.9, 0.95), fused=True)


def _torch_state_tensors(optimizer: torch.optim.AdamW) -> dict[str, torch.Tensor]:
    """The checkpoint format the trainer wrote with torch's optimizer ("state.<index>.<name>")."""
    return {
        f"state.{index}.{name}": value.detach().clone()
        for index, state in optimizer.state_dict()["state"].items()
        for name, value in state.items()
    }


def _train(model: GPT, optimizer, steps: range) -> None:
    for step in steps:
        gen = torch.Generator().manual_seed(step)
        x = torch.randint(0, CFG.vocab_size, (4, CFG.block_size), generator=gen)
        optimizer.zero_grad(set_to_none=True)
        compute_loss(model, x, x.roll(-1, 1)).backward()
        optimizer.step()


def _twins() -> tuple[GPT, GPT]:
    torch.manual_seed(0)
    a = GPT(CFG)
    b = GPT(CFG)
    b.load_state_dict(a.state_dict())
    return a, b


def _same_weights(a: GPT, b: GPT) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_the_updates_are_torch_fused_adamws_bit_for_bit():
    ours, theirs = _twins()
    _train(ours, adamw(ours, TC), range(30))
    _train(theirs, _torch_adamw(theirs), range(30))
    assert not _same_weights(ours, GPT(CFG))  # it moved
    assert _same_weights(ours, theirs)


def test_a_state_written_by_either_optimizer_resumes_in_the_other():
    ours, theirs = _twins()
    ours_opt, theirs_opt = adamw(ours, TC), _torch_adamw(theirs)
    _train(ours, ours_opt, range(10))
    _train(theirs, theirs_opt, range(10))
    state_ours, state_theirs = ours_opt.state_tensors(), _torch_state_tensors(theirs_opt)
    assert state_ours.keys() == state_theirs.keys()
    # swap the optimizers' states, then go on: still the same weights as each other
    resumed_ours, resumed_theirs = adamw(ours, TC), _torch_adamw(theirs)
    resumed_ours.load_state_tensors(state_theirs)
    resumed_theirs.load_state_dict(
        {"state": _nested(state_ours), "param_groups": resumed_theirs.state_dict()["param_groups"]}
    )
    _train(ours, resumed_ours, range(10, 20))
    _train(theirs, resumed_theirs, range(10, 20))
    assert _same_weights(ours, theirs)


def _nested(tensors: dict[str, torch.Tensor]) -> dict[int, dict[str, torch.Tensor]]:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = tensor
    return state


def test_the_distillers_extra_group_is_stepped_too():
    model = GPT(CFG)
    projection = torch.nn.Linear(16, 16, bias=False)
    optimizer = adamw(model, TC)
    optimizer.add_param_group({"params": list(projection.parameters()), "weight_decay": 0.0})
    before = projection.weight.clone()
    projection.weight.sum().backward()
    optimizer.step()
    assert not torch.equal(before, projection.weight)
    assert optimizer.param_groups[-1]["lr"] == TC.lr


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: {**s, "state.999.exp_avg": s["state.0.exp_avg"]}, "no parameter"),
        (lambda s: {**s, "state.0.exp_avg": torch.zeros(3)}, "shape"),
        (lambda s: {k: v for k, v in s.items() if k != "state.0.exp_avg_sq"}, "incomplete"),
    ],
)
def test_a_state_that_does_not_fit_the_model_is_a_clear_error(change, message):
    model = GPT(CFG)
    optimizer = adamw(model, TC)
    _train(model, optimizer, range(1))
    with pytest.raises(ValueError, match=message):
        adamw(model, TC).load_state_tensors(change(optimizer.state_tensors()))


def test_a_step_imports_no_torch_dynamo():
    """torch.optim's first call imports torch._dynamo (~830 modules, seconds) — the window's loading wait."""
    code = (
        "import sys, torch\n"
        "from core.config import ModelConfig, TrainConfig\n"
        "from core.model.gpt import GPT\n"
        "from core.training.optim import adamw\n"
        "model = GPT(ModelConfig(vocab_size=8, n_layer=1, n_head=2, n_embd=8, block_size=4))\n"
        "optimizer = adamw(model, TrainConfig())\n"
        "model.wte.weight.sum().backward()\n"
        "torch.nn.utils.clip_grad_norm_(list(model.parameters()), 1.0)\n"
        "optimizer.step()\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "False"
