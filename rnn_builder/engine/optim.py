"""Optimizers and gradient clipping, with PyTorch's update rules step for step.

Each optimizer updates a flat parameter buffer from a flat gradient buffer (the executor's
:class:`~rnn_builder.engine.executor.ParameterStore`) in a
handful of whole-array operations, with its
state (momenta, running averages) in buffers of the same size. The rules are those of
``torch.optim.SGD`` (with momentum, dampening 0, optional Nesterov), ``RMSprop`` (optionally
centred, with momentum) and ``Adam``, each with L2 weight decay added to the gradient as PyTorch
does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Array = np.ndarray


class Optimizer:
    def __init__(self, params: Array, grads: Array, lr: float, weight_decay: float = 0.0) -> None:
        if not lr > 0:
            raise ValueError("the learning rate must be above 0")
        self.params = params
        self.grads = grads
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.steps = 0

    def _gradient(self) -> Array:
        if self.weight_decay:
            return self.grads + self.weight_decay * self.params
        return self.grads

    def step(self) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        """Buffers and counters to save beside the weights and resume training from."""
        return {"steps": self.steps}


class SGD(Optimizer):
    """``p -= lr * g``; with momentum ``b = m·b + g`` (``b = g`` at the first step), and
    ``g + m·b`` instead of ``b`` with Nesterov."""

    def __init__(
        self,
        params,
        grads,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, grads, lr, weight_decay)
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs a momentum above 0")
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.buffer = np.zeros_like(params) if momentum else None

    def step(self) -> None:
        g = self._gradient()
        if self.momentum:
            if self.steps == 0:
                self.buffer[...] = g
            else:
                self.buffer *= self.momentum
                self.buffer += g
            g = g + self.momentum * self.buffer if self.nesterov else self.buffer
        self.params -= self.lr * g
        self.steps += 1


class RMSprop(Optimizer):
    """``s = α·s + (1-α)·g²``; ``p -= lr · g / (√s + ε)`` (centred: ``√(s - ḡ²)``)."""

    def __init__(
        self,
        params,
        grads,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, grads, lr, weight_decay)
        self.alpha, self.eps, self.momentum, self.centered = alpha, eps, momentum, centered
        self.square_avg = np.zeros_like(params)
        self.grad_avg = np.zeros_like(params) if centered else None
        self.buffer = np.zeros_like(params) if momentum else None

    def step(self) -> None:
        g = self._gradient()
        self.square_avg *= self.alpha
        self.square_avg += (1.0 - self.alpha) * g * g
        if self.centered:
            self.grad_avg *= self.alpha
            self.grad_avg += (1.0 - self.alpha) * g
            avg = np.sqrt(self.square_avg - self.grad_avg * self.grad_avg)
        else:
            avg = np.sqrt(self.square_avg)
        avg += self.eps
        if self.momentum:
            self.buffer *= self.momentum
            self.buffer += g / avg
            self.params -= self.lr * self.buffer
        else:
            self.params -= self.lr * g / avg
        self.steps += 1


class Adam(Optimizer):
    """``m = β₁m + (1-β₁)g``, ``v = β₂v + (1-β₂)g²``,
    ``p -= lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε)``."""

    def __init__(
        self,
        params,
        grads,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, grads, lr, weight_decay)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self._scratch = np.zeros_like(params)

    def step(self) -> None:
        g = self._gradient()
        self.steps += 1
        b1, b2 = self.beta1, self.beta2
        self.m *= b1
        self.m += (1.0 - b1) * g
        self.v *= b2
        np.multiply(g, g, out=self._scratch)
        self._scratch *= 1.0 - b2
        self.v += self._scratch
        correction1 = 1.0 - b1**self.steps
        correction2 = math.sqrt(1.0 - b2**self.steps)
        denominator = np.sqrt(self.v, out=self._scratch)
        denominator /= correction2
        denominator += self.eps
        np.divide(self.m, denominator, out=denominator)
        denominator *= self.lr / correction1
        self.params -= denominator

    def state(self) -> dict[str, Any]:
        return {"steps": self.steps, "m": self.m, "v": self.v}


OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")


def make_optimizer(
    name: str,
    params: Array,
    grads: Array,
    lr: float,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
) -> Optimizer:
    """The optimizer a project's training settings name."""
    if name == "sgd":
        return SGD(params, grads, lr, weight_decay=weight_decay)
    if name == "momentum":
        return SGD(params, grads, lr, momentum=momentum, weight_decay=weight_decay)
    if name == "nesterov":
        return SGD(params, grads, lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)
    if name == "rmsprop":
        return RMSprop(params, grads, lr, weight_decay=weight_decay)
    if name == "adam":
        return Adam(params, grads, lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer '{name}' (known: {', '.join(OPTIMIZERS)})")


def clip_grad_norm(grads: Array, max_norm: float) -> float:
    """Scale ``grads`` in place so that their global L2 norm is at most ``max_norm``, as
    ``torch.nn.utils.clip_grad_norm_`` does; returns the norm before clipping."""
    norm = float(np.sqrt(np.dot(grads, grads)))
    coefficient = max_norm / (norm + 1e-6)
    if coefficient < 1.0:
        grads *= coefficient
    return norm


def clip_grad_value(grads: Array, limit: float) -> None:
    """Clamp every gradient into ``[-limit, limit]`` (``torch.nn.utils.clip_grad_value_``)."""
    np.clip(grads, -limit, limit, out=grads)
