"""Custom Keras layers of the course, registered so that .keras files load them back."""

import keras
from keras import ops


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return value


@keras.saving.register_keras_serializable(package="cnnkit")
class ResidualUnit(keras.layers.Layer):
    """A ResNet basic block: two 3x3 convolutions and a shortcut that adds the input back.

    Main path: Conv2D(filters, 3, strides, same, no bias) -> BatchNormalization -> activation
    -> Conv2D(filters, 3, 1, same, no bias) -> BatchNormalization. Skip path: the identity
    when the output has the input's shape, else a 1x1 projection Conv2D(filters, 1, strides,
    same, no bias) -> BatchNormalization (when ``strides > 1`` or the channel count changes).
    Output: ``activation(main + skip)``.

    Parameters
    ----------
    filters : int
        Number of output channels (> 0).
    strides : int, default=1
        Stride of the first convolution and of the projection (> 0).
    activation : str or callable, default="relu"
        Activation after the first batch norm and after the addition.
    bn_momentum : float, default=0.99
        Momentum of the batch norms' moving mean and variance (Keras' default). Lower
        values (0.9) let the moving statistics catch up faster in short trainings.
    **kwargs
        Passed to ``keras.layers.Layer`` (``name``, ``dtype``, ...).

    Notes
    -----
    Inputs are (batch, height, width, channels); height and width may differ from call to
    call. A stride-1 3x3 convolution of a 1x1 map only meets data through its kernel's centre
    tap, so on such inputs it runs as a matrix product with that tap (see ``_conv3x3``): the
    same outputs, gradients and weights, faster on CPUs.

    Examples
    --------
    >>> import numpy as np
    >>> unit = ResidualUnit(64, strides=2)
    >>> tuple(unit(np.zeros((1, 8, 8, 32), "float32")).shape)
    (1, 4, 4, 64)
    """

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        activation="relu",
        bn_momentum: float = 0.99,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = _check_positive_int("filters", filters)
        self.strides = _check_positive_int("strides", strides)
        if not 0.0 <= bn_momentum < 1.0:
            raise ValueError(f"bn_momentum must be in [0, 1), got {bn_momentum!r}.")
        self.bn_momentum = float(bn_momentum)
        self.activation = keras.activations.get(activation)
        self.input_spec = keras.layers.InputSpec(ndim=4)
        conv = dict(padding="same", use_bias=False)
        self.conv1 = keras.layers.Conv2D(filters, 3, strides=strides, name="conv1", **conv)
        self.bn1 = keras.layers.BatchNormalization(momentum=self.bn_momentum, name="bn1")
        self.conv2 = keras.layers.Conv2D(filters, 3, strides=1, name="conv2", **conv)
        self.bn2 = keras.layers.BatchNormalization(momentum=self.bn_momentum, name="bn2")
        self.skip_conv = None
        self.skip_bn = None

    def build(self, input_shape):
        in_channels = input_shape[-1]
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: in_channels})
        if self.strides > 1 or in_channels != self.filters:
            self.skip_conv = keras.layers.Conv2D(
                self.filters,
                1,
                strides=self.strides,
                name="skip_conv",
                padding="same",
                use_bias=False,
            )
            self.skip_bn = keras.layers.BatchNormalization(
                momentum=self.bn_momentum, name="skip_bn"
            )
        self.conv1.build(input_shape)
        mid_shape = self.conv1.compute_output_shape(input_shape)
        self.bn1.build(mid_shape)
        self.conv2.build(mid_shape)
        self.bn2.build(mid_shape)
        if self.skip_conv is not None:
            self.skip_conv.build(input_shape)
            self.skip_bn.build(mid_shape)

    def call(self, inputs, training=None):
        x = _conv3x3(self.conv1, inputs)
        x = self.activation(self.bn1(x, training=training))
        x = _conv3x3(self.conv2, x)
        x = self.bn2(x, training=training)
        skip = inputs
        if self.skip_conv is not None:
            skip = self.skip_bn(self.skip_conv(inputs), training=training)
        return self.activation(x + skip)

    def compute_output_shape(self, input_shape):
        return self.conv1.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            strides=self.strides,
            activation=keras.activations.serialize(self.activation),
            bn_momentum=self.bn_momentum,
        )
        return config


def _conv3x3(conv: keras.layers.Conv2D, x):
    """``conv(x)``, as a matrix product with the kernel's centre tap when ``x`` is 1x1.

    With stride 1 and "same" padding, the other 8 taps of a 3x3 kernel only meet zero
    padding on a 1x1 map, and CPU convolution kernels are slow on such maps (ResNet-34 on
    28x28 images: 6-14% less CPU time per training step, ``python -m benchmarks.centre_tap``).
    Decided from the static shape of this call's input: unknown or larger maps take the
    plain convolution.
    """
    if conv.strides != (1, 1) or tuple(x.shape[1:3]) != (1, 1):
        return conv(x)
    y = ops.matmul(x[:, 0, 0, :], ops.cast(conv.kernel[1, 1], x.dtype))  # (batch, out)
    return y[:, None, None, :]


@keras.saving.register_keras_serializable(package="cnnkit")
class DepthwiseMaxPool2D(keras.layers.Layer):
    """Depthwise (channel) max pooling: the maximum over groups of neighbouring channels.

    Ordinary pooling shrinks height and width and keeps every channel. This layer does the
    opposite, as in chapter 14 of Géron's *Hands-On Machine Learning*: it keeps height and
    width and replaces each group of ``pool_size`` consecutive channels (0..k-1, k..2k-1,
    ...) by their pixel-wise maximum, so the channel count is divided by ``pool_size``.
    If the channels are features that detect the same pattern in different orientations
    or scales, the output responds to the pattern whichever of them fired.

    Parameters
    ----------
    pool_size : int, default=3
        Number of consecutive channels pooled together (> 0). The input channel count
        must be a multiple of it.
    **kwargs
        Passed to ``keras.layers.Layer`` (``name``, ``dtype``, ...).

    Raises
    ------
    ValueError
        If ``pool_size`` is not a positive int, the input is not 4D (Keras checks the
        layer's ``input_spec``), or the channel count is unknown or not a multiple of
        ``pool_size``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(6, dtype="float32").reshape(1, 1, 1, 6)
    >>> DepthwiseMaxPool2D(pool_size=3)(x).numpy().ravel()  # max of 0,1,2 and of 3,4,5
    array([2., 5.], dtype=float32)
    """

    def __init__(self, pool_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = _check_positive_int("pool_size", pool_size)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % self.pool_size != 0:
            raise ValueError(
                f"DepthwiseMaxPool2D(pool_size={self.pool_size}) needs a channel count that "
                f"is a multiple of {self.pool_size}, got {channels} channels "
                f"(input shape {tuple(input_shape)})."
            )

    def call(self, inputs):
        k = self.pool_size
        # inputs[..., i::k] holds channels i, i+k, i+2k, ...: its channel g is the i-th
        # member of group g, so the running maximum over i is the maximum of each group.
        outputs = inputs[..., 0::k]
        for i in range(1, k):
            outputs = ops.maximum(outputs, inputs[..., i::k])
        return outputs

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] // self.pool_size)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size)
        return config
