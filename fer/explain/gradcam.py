"""Grad-CAM (Selvaraju et al. 2017): which regions of a conv layer's maps vote for the class.

Each channel of the chosen layer is weighted by the average gradient of the class logit over
that channel; the weighted sum, with negatives cut to zero, is a coarse map (6x6 for the
report-A CNN's last conv layer) that is upsampled bilinearly to the face's 48x48.
"""

from __future__ import annotations

from fer.explain.base import (
    CONV_KINDS,
    ExplainError,
    SaliencyMethod,
    conv_layer_names,
    is_block_output,
    layer_kind,
    normalise_maps,
    scores_model,
    spatial_layer_names,
)
from fer.i18n import _


def default_gradcam_layer(model) -> str:
    """The last convolution: the most abstract maps that still know where things are.

    In a residual network, the last Add: the block's output joins its convolutions with the
    shortcut, and the last convolution in layer order is only the shortcut's 1x1.
    """
    if conv_layer_names(model):
        return [layer.name for layer in model.layers if layer_kind(layer) in CONV_KINDS or is_block_output(layer)][-1]
    spatial = spatial_layer_names(model)
    if not spatial:
        raise ExplainError(
            _(
                "{name} has no layer with spatial maps (it flattens the face at once), so Grad-CAM "
                "cannot apply: use the vanilla gradient or SmoothGrad."
            ).format(name=model.name)
        )
    return spatial[-1]


class GradCAM(SaliencyMethod):
    """A conv layer's channels, each weighted by its average gradient, summed, negatives cut, upsampled.

    Args:
        model: a Keras classifier of (N, H, W, 1) images.
        layer_name: a layer with spatial maps (N, h, w, C); default: the last convolution.

    Raises:
        ExplainError: when `layer_name` has no spatial maps (a dense or flatten layer), or the
            model has no such layer at all.

    References:
        Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
        Localization", 2017, https://arxiv.org/abs/1610.02391
    """

    method_id = "gradcam"
    name = "Grad-CAM"

    def __init__(self, model, layer_name: str | None = None):
        super().__init__(model)
        self.layer_name = layer_name or default_gradcam_layer(model)
        if self.layer_name not in spatial_layer_names(model):
            choices = ", ".join(spatial_layer_names(model)) or "none"
            raise ExplainError(
                _(
                    "Grad-CAM needs a layer with spatial maps; {layer_name} is not one. Choose one "
                    "of: {choices}."
                ).format(layer_name=repr(self.layer_name), choices=choices)
            )
        self.scores = scores_model(model, [self.layer_name])
        self.description = _(
            "Channels of {layer} weighted by how much they raise the class score, summed, "
            "negatives cut, upsampled to 48x48."
        ).format(layer=self.layer_name)

    def explain(self, batch, class_indices):
        import tensorflow as tf

        x = tf.convert_to_tensor(batch)
        mask = tf.one_hot(class_indices, self.num_classes)
        with tf.GradientTape() as tape:
            maps, logits = self.scores(x, training=False)
            score = tf.reduce_sum(logits * mask)
        gradients = tape.gradient(score, maps)
        channel_weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(channel_weights * maps, axis=-1, keepdims=True))
        upsampled = tf.image.resize(cam, batch.shape[1:3], method="bilinear")
        return normalise_maps(upsampled.numpy()[..., 0])

