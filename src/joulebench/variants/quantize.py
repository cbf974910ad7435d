"""Quantization applied when a torch variant is loaded: int8 (dynamic) and NF4 (4-bit).

The weights on disk stay the parent's fp32 safetensors (joulebench loads no pickles, and the
quantized tensor types have no safetensors form), so each quantized variant reports the size
its quantized weights take (``quantized_size_bytes``) beside the file size. Every variant
records which kernel ran.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from typing import Any

from joulebench.errors import VariantError


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence deprecation warnings and import-time chatter of quantization libraries."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stderr(io.StringIO()):
            yield


def quantize_dynamic_int8(model: Any) -> tuple[Any, str]:
    """int8 dynamic quantization of every Linear: torch.ao where present, else torchao."""
    import torch

    quantization = getattr(getattr(torch, "ao", None), "quantization", None)
    if quantization is not None and hasattr(quantization, "quantize_dynamic"):
        with _quiet():
            quantized = quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return (
            quantized,
            "torch.ao.quantization.quantize_dynamic (deprecated upstream, fastest on CPU)",
        )
    try:
        with _quiet():
            from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    except ImportError:
        raise VariantError(
            "int8: this torch has no torch.ao.quantization.quantize_dynamic; "
            "`pip install 'joulebench[compress]'` (torchao)"
        ) from None
    with _quiet():
        quantize_(model, Int8DynamicActivationInt8WeightConfig())
    return model, "torchao Int8DynamicActivationInt8WeightConfig"


def _encoder_linears(model: Any) -> list[tuple[Any, str, Any]]:
    """(parent module, attribute, Linear) for every Linear inside the encoder (not the head)."""
    import torch

    found = []
    for module in model.base_model.modules():
        for name, child in module.named_children():
            if isinstance(child, torch.nn.Linear):
                found.append((module, name, child))
    return found


def _nf4_bitsandbytes(model: Any, device: str) -> Any:
    """Swap the encoder's Linears for bitsandbytes ``Linear4bit`` (each tried on a zero input
    first: on CPU some shapes have no kernel; then the model is left untouched)."""
    import torch

    with _quiet():
        import bitsandbytes as bnb
    model = model.to(device)  # everything else first: moving a quantized layer re-quantizes it
    swaps = []
    for parent, name, linear in _encoder_linears(model):
        layer = bnb.nn.Linear4bit(
            linear.in_features,
            linear.out_features,
            bias=linear.bias is not None,
            compute_dtype=torch.float32,
            quant_type="nf4",
        )
        layer.weight = bnb.nn.Params4bit(
            data=linear.weight.data.detach().cpu().clone(), requires_grad=False, quant_type="nf4"
        )
        if linear.bias is not None:
            layer.bias = torch.nn.Parameter(linear.bias.data.detach().cpu().clone(), False)
        layer = layer.to(device).eval()  # bitsandbytes quantizes on the move
        with torch.inference_mode(), _quiet():
            layer(torch.zeros(1, linear.in_features, device=device))
        swaps.append((parent, name, layer))
    for parent, name, layer in swaps:
        setattr(parent, name, layer)
    return model


def _nf4_torchao(model: Any) -> Any:
    import torch

    with _quiet():
        from torchao.quantization import to_nf4

    class Nf4Linear(torch.nn.Module):
        """A Linear whose weight is a torchao NF4 tensor (dequantized inside F.linear)."""

        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            weight = linear.weight.data
            block = 64 if weight.numel() % 64 == 0 else 32
            scalers = weight.numel() // block
            scaler_block = next(s for s in (256, 128, 64, 32, 16, 8, 4, 2, 1) if scalers % s == 0)
            self.weight = torch.nn.Parameter(
                to_nf4(weight, block, scaler_block), requires_grad=False
            )
            self.bias = linear.bias

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.linear(x, self.weight, self.bias)

    for parent, name, linear in _encoder_linears(model):
        setattr(parent, name, Nf4Linear(linear))
    return model


def quantize_nf4(model: Any, device: str = "cpu") -> tuple[Any, str]:
    """4-bit NormalFloat weights for the encoder's Linears; which kernel ran is returned.

    bitsandbytes ``Linear4bit`` where it runs (CUDA, and CPU in recent versions), else
    torchao's NF4 tensor; where neither can run, one line saying so.
    """
    problems = []
    try:
        return _nf4_bitsandbytes(model, device), f"bitsandbytes Linear4bit nf4 ({device})"
    except ImportError:
        problems.append("bitsandbytes is not installed")
    except Exception as exc:  # bitsandbytes raises RuntimeError/NotImplementedError per device
        problems.append(f"bitsandbytes cannot run on {device} ({str(exc).splitlines()[0][:120]})")
    if device == "cpu":
        try:
            return _nf4_torchao(model), "torchao NF4Tensor + F.linear (dequantized per call, cpu)"
        except ImportError:
            problems.append("torchao is not installed")
        except Exception as exc:
            problems.append(f"torchao NF4 failed ({str(exc).splitlines()[0][:120]})")
    raise VariantError(
        f"no NF4 kernel can run on {device}: {'; '.join(problems)}; "
        "`pip install 'joulebench[compress]'` (bitsandbytes, torchao)"
    )


NF4_PARTS = ("quantized_data", "quantized_scalers", "quantization_factor", "nf4")


def quantized_size(model: Any) -> int:
    """Bytes of the model's weights as quantized (parameters and buffers, packed forms too)."""
    import torch

    total = 0
    for tensor in list(model.parameters()) + list(model.buffers()):
        parts = [getattr(tensor, a, None) for a in NF4_PARTS]
        if any(isinstance(p, torch.Tensor) for p in parts):  # torchao NF4: count its packed parts
            total += sum(p.numel() * p.element_size() for p in parts if isinstance(p, torch.Tensor))
        else:
            total += tensor.numel() * tensor.element_size()
    for module in model.modules():  # torch.ao dynamic int8 keeps packed weights outside params
        packed = getattr(module, "_packed_params", None)
        if packed is not None and hasattr(packed, "_weight_bias"):
            weight, bias = packed._weight_bias()
            total += weight.numel() * weight.element_size()
            total += 0 if bias is None else bias.numel() * bias.element_size()
    if total == 0:
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        total = buffer.tell()
    return total
