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
from fer.i18n import N_, _

# Labels in English, marked for the catalogue: a page shows _(SALIENCY_METHODS[id]).
SALIENCY_METHODS = {
    "vanilla": N_("Vanilla gradient"),
    "smoothgrad": "SmoothGrad",
    "gradcam": "Grad-CAM",
    "integrated_gradients": N_("Integrated gradients"),
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
        raise UnknownMethodError(_(
            "{method_id} is a method's label; choose it by its id {known}."
        ).format(method_id=repr(method_id), known=repr(by_label[method_id])))
    raise UnknownMethodError(_(
        "There is no saliency method {method_id}; choose one of: {ids}."
    ).format(method_id=repr(method_id), ids=ids))
