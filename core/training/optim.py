"""AdamW as the trainer uses it, and its state as named tensors so a checkpoint can hold it.

Our own small class around torch's fused AdamW kernel rather than `torch.optim.AdamW`: the first call into
any `torch.optim` optimizer imports `torch._dynamo` and ~830 more modules (2-3 s on this class of machine,
holding the GIL), which the window paid before Train could be clicked. The kernel and its arguments are the ones
`torch.optim.AdamW(fused=True)` calls, so the mathematics and the state ("step", "exp_avg", "exp_avg_sq" per
parameter) are the same: checkpoints written with either resume with either (tests/core/test_optim.py)."""

from __future__ import annotations

import torch

from core.config import TrainConfig
from core.model.gpt import GPT

BETAS = (0.9, 0.95)
EPS = 1e-8
MOMENTS = ("step", "exp_avg", "exp_avg_sq")  # per parameter, as torch names them


class AdamW:
    """Decoupled-weight-decay Adam over parameter groups (dicts with "params", "lr", "weight_decay").

    The trainer sets `group["lr"]` before each step, as with torch's optimizers."""

    def __init__(self, groups: list[dict], lr: float, betas: tuple[float, float] = BETAS, eps: float = EPS):
        self.defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": 0.0}
        self.param_groups: list[dict] = []
        self.state: dict[torch.nn.Parameter, dict[str, torch.Tensor]] = {}
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        self.param_groups.append({**self.defaults, **group, "params": list(group["params"])})

    def _params(self) -> list[torch.nn.Parameter]:
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self._params():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            states = [self._state(p) for p in params]
            steps = [s["step"] for s in states]
            torch._foreach_add_(steps, 1)
            beta1, beta2 = group["betas"]
            torch._fused_adamw_(
                params,
                [p.grad for p in params],
                [s["exp_avg"] for s in states],
                [s["exp_avg_sq"] for s in states],
                [],  # no AMSGrad maxima
                steps,
                lr=float(group["lr"]),
                beta1=beta1,
                beta2=beta2,
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                amsgrad=False,
                maximize=False,
            )

    def _state(self, p: torch.nn.Parameter) -> dict[str, torch.Tensor]:
        if p not in self.state:
            self.state[p] = {
                "step": torch.zeros((), dtype=torch.float32, device=p.device),
                "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
            }
        return self.state[p]

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Moments as named tensors for safetensors: "state.<index>.<name>", the index counting every
        parameter in group order, as torch's optimizer state_dict numbers them."""
        out = {}
        for index, p in enumerate(self._params()):
            for name, value in self.state.get(p, {}).items():
                out[f"state.{index}.{name}"] = value.detach().cpu().contiguous().clone()
        return out

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """The inverse of state_tensors; a state that does not fit these parameters is a ValueError."""
        params = self._params()
        state: dict[torch.nn.Parameter, dict[str, torch.Tensor]] = {}
        for key, tensor in tensors.items():
            _, index, name = key.split(".", 2)
            if not index.isdigit() or int(index) >= len(params) or name not in MOMENTS:
                raise ValueError(f"the optimizer state holds {key!r}, which this model has no parameter for")
            p = params[int(index)]
            if name != "step" and tensor.shape != p.shape:
                shapes = f"{tuple(tensor.shape)}, not {tuple(p.shape)}"
                raise ValueError(f"the optimizer state {key!r} has shape {shapes}")
            dtype = torch.float32 if name == "step" else p.dtype
            state.setdefault(p, {})[name] = tensor.to(device=p.device, dtype=dtype).clone()
        if any(len(moments) != len(MOMENTS) for moments in state.values()):
            raise ValueError(f"the optimizer state is incomplete (each parameter needs {', '.join(MOMENTS)})")
        self.state = state


def adamw(model: GPT, tc: TrainConfig) -> AdamW:
    """Weight decay on matrices only (not biases, norms or the position table)."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and n != "wpe.weight"]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or n == "wpe.weight"]
    groups = [{"params": decay, "weight_decay": tc.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return AdamW(groups, lr=tc.lr)
