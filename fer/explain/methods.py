"""The saliency methods a page offers, by stable id: the id goes in URLs and code, the label on screen.

    SALIENCY_METHODS["gradcam"]                      # "Grad-CAM"
    make_saliency_method("gradcam", model)(faces, 3)  # (N, 48, 48) maps in [0, 1]

Like `fer.train.OPTIMIZERS`, renaming a label never breaks a shared link or a test.
"""

from __future__ import annotations

from fer.explain.base import ExplainError, SaliencyMethod
from fer.explain.gradcam import GradCAM
from fer.explain.integrated_gradients import IntegratedGradients
from fer.explain.saliency import Saliency

SALIENCY_METHODS = {
    "vanilla": "Vanilla gradient",
    "smoothgrad": "SmoothGrad",
    "gradcam": "Grad-CAM",
    "integrated_gradients": "Integrated gradients",
}


class UnknownMethodError(ExplainError):
    """A saliency method id that is not in SALIENCY_METHODS."""


def make_saliency_method(
    method_id: str,
    model,
    layer_name: str | None = None,
    smooth_samples: int = 20,
    noise_level: float = 0.15,
    integration_steps: int = 32,
    seed: int = 0,
) -> SaliencyMethod:
    """The saliency method `method_id` (a key of SALIENCY_METHODS), ready to call on faces and classes.

    Args:
        method_id: "vanilla", "smoothgrad", "gradcam" or "integrated_gradients".
        model: a Keras classifier of (N, H, W, 1) images.
        layer_name: Grad-CAM's layer (default: the last convolution); the others ignore it.
        smooth_samples, noise_level, seed: SmoothGrad's noisy copies.
        integration_steps: integrated gradients' steps from black to the face.
    """
    if method_id == "vanilla":
        return Saliency(model)
    if method_id == "smoothgrad":
        return Saliency(model, smooth_samples=smooth_samples, noise_level=noise_level, seed=seed)
    if method_id == "gradcam":
        return GradCAM(model, layer_name)
    if method_id == "integrated_gradients":
        return IntegratedGradients(model, steps=integration_steps)
    ids = ", ".join(SALIENCY_METHODS)
    by_label = {label: known for known, label in SALIENCY_METHODS.items()}
    if method_id in by_label:
        raise UnknownMethodError(f"{method_id!r} is a method's label; choose it by its id {by_label[method_id]!r}.")
    raise UnknownMethodError(f"There is no saliency method {method_id!r}; choose one of: {ids}.")
