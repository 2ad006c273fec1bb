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
    The basic block of He et al. (2015) as Géron writes it in *Hands-On Machine Learning*,
    ch. 14, plus what a reusable Keras layer needs: the projection also when only the channel
    count changes, sublayers built in ``build``, ``training`` passed on, ``get_config``.
    Inputs are (batch, height, width, channels); height and width may differ from call to
    call. :class:`CentreTapResidualUnit` computes the same faster on 1x1 maps.

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
        x = self.activation(self.bn1(self.conv1(inputs), training=training))
        x = self.bn2(self.conv2(x), training=training)
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


@keras.saving.register_keras_serializable(package="cnnkit")
class CentreTapResidualUnit(ResidualUnit):
    """A :class:`ResidualUnit` that runs 3x3 convolutions of 1x1 maps as matrix products.

    With stride 1 and "same" padding, a 3x3 kernel on a 1x1 map meets data only through its
    centre tap (the other 8 taps multiply zero padding), so the convolution equals a matrix
    product with ``kernel[1, 1]``, which CPUs run faster than their convolution kernels on
    such maps (ResNet-34 on 28x28 digits, whose last stage works on 1x1 maps; a whole training
    step gains much less than one unit, ``python -m benchmarks.centre_tap`` measures it). The
    same weights, outputs and gradients as :class:`ResidualUnit`; any other map size takes the plain
    convolution, decided call by call from the input's static shape.

    Examples
    --------
    >>> import numpy as np
    >>> unit = CentreTapResidualUnit(8)
    >>> tuple(unit(np.zeros((2, 1, 1, 8), "float32")).shape)
    (2, 1, 1, 8)
    """

    def call(self, inputs, training=None):
        x = self.activation(self.bn1(_conv3x3(self.conv1, inputs), training=training))
        x = self.bn2(_conv3x3(self.conv2, x), training=training)
        skip = inputs
        if self.skip_conv is not None:
            skip = self.skip_bn(self.skip_conv(inputs), training=training)
        return self.activation(x + skip)


def _conv3x3(conv: keras.layers.Conv2D, x):
    """``conv(x)``, as a matrix product with the kernel's centre tap when ``x`` is 1x1."""
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


def _pyramid_bins(size, n: int):
    """(n, size) boolean mask: ``mask[i, r]`` is True when row ``r`` lies in bin ``i``.

    Bin ``i`` of ``n`` spans rows ``floor(i * size / n)`` to ``ceil((i + 1) * size / n)``
    (end excluded). ``size`` may be a tensor: the mask is built when the layer runs.
    """
    bins = ops.arange(n, dtype="int32")
    starts = ops.floor_divide(bins * size, n)
    ends = ops.floor_divide((bins + 1) * size + n - 1, n)  # ceil((i + 1) * size / n)
    rows = ops.arange(size, dtype="int32")
    return ops.logical_and(rows[None, :] >= starts[:, None], rows[None, :] < ends[:, None])


@keras.saving.register_keras_serializable(package="cnnkit")
class SpatialPyramidPooling2D(keras.layers.Layer):
    """Spatial pyramid pooling: pool each map into n x n grids and concatenate the results.

    He et al. (2014, *Spatial Pyramid Pooling in Deep Convolutional Networks for Visual
    Recognition*, SPP-net) put this layer between the last convolution and the dense head:
    for each level ``n`` every map is cut into an n x n grid of bins and each bin keeps its
    maximum (or mean). The output length, ``channels * sum(n * n for n in levels)``, does not
    depend on the input's height and width, so one network takes images of any size.

    Parameters
    ----------
    levels : sequence of int, default=(1, 2, 4)
        Grid sizes, each > 0. The 1 x 1 level is global max (or average) pooling.
    mode : {"max", "average"}, default="max"
        What each bin keeps.
    **kwargs
        Passed to ``keras.layers.Layer`` (``name``, ``dtype``, ...).

    Raises
    ------
    ValueError
        For empty or non-positive levels, an unknown mode, an input that is not 4D (Keras
        checks the layer's ``input_spec``) or an unknown channel count.

    Notes
    -----
    Inputs are channels-last (batch, height, width, channels); height and width may change
    from call to call, and the bins are computed when the layer runs. Along an axis of
    length ``a``, bin ``i`` of ``n`` spans ``floor(i * a / n)`` to ``ceil((i + 1) * a / n)``
    (end excluded), as adaptive pooling does (``keras.layers.AdaptiveMaxPooling2D``,
    PyTorch's ``AdaptiveMaxPool2d``). The bins are never empty, cover every row, and overlap
    by one row where ``n`` does not divide ``a``; with ``a < n`` some rows belong to two bins.
    The paper slides one window of ``ceil(a / n)`` with stride ``floor(a / n)``: the same
    bins when ``n`` divides ``a``, but otherwise it can give the wrong number of bins
    (``a = 7, n = 4``: windows of 2 with stride 1 give 6), leave rows out (``a = 14, n = 4``:
    windows of 4 with stride 3 never reach row 13) or a stride of 0 (``a < n``).
    Output order: level by level, each level's (row, column, channel) flattened.

    Examples
    --------
    >>> import numpy as np
    >>> spp = SpatialPyramidPooling2D(levels=(1, 2, 4))
    >>> [tuple(spp(np.ones((2, h, w, 3), "float32")).shape) for h, w in [(7, 7), (13, 9)]]
    [(2, 63), (2, 63)]
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> SpatialPyramidPooling2D(levels=(1, 2))(x).numpy().ravel()  # max of all, of each 2x2
    array([15.,  5.,  7., 13., 15.], dtype=float32)
    """

    def __init__(self, levels=(1, 2, 4), mode: str = "max", **kwargs):
        super().__init__(**kwargs)
        if isinstance(levels, (str, bytes)) or not hasattr(levels, "__iter__"):
            raise ValueError(f"levels must be a sequence of positive integers, got {levels!r}.")
        self.levels = tuple(_check_positive_int("each level", n) for n in levels)
        if not self.levels:
            raise ValueError("levels must name at least one grid size, e.g. (1, 2, 4).")
        if mode not in ("max", "average"):
            raise ValueError(f'mode must be "max" or "average", got {mode!r}.')
        self.mode = mode
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                "SpatialPyramidPooling2D needs a known channel count (the last axis), got "
                f"input shape {tuple(input_shape)}."
            )
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        height, width = ops.shape(inputs)[1], ops.shape(inputs)[2]
        pooled = [
            ops.reshape(self._pool_level(inputs, height, width, n), (ops.shape(inputs)[0], -1))
            for n in self.levels
        ]
        return ops.concatenate(pooled, axis=-1)

    def _pool_level(self, inputs, height, width, n: int):
        """(batch, n, n, channels): each bin of the n x n grid reduced to one value."""
        rows, columns = _pyramid_bins(height, n), _pyramid_bins(width, n)
        if self.mode == "average":  # mean = (0/1 mask / bin size) contracted with the map
            rows = ops.cast(rows, inputs.dtype)
            columns = ops.cast(columns, inputs.dtype)
            rows = rows / ops.sum(rows, axis=1, keepdims=True)
            columns = columns / ops.sum(columns, axis=1, keepdims=True)
            return ops.einsum("ih,jw,bhwc->bijc", rows, columns, inputs)
        lowest = ops.cast(float("-inf"), inputs.dtype)  # never wins a bin it is not in
        # Rows first: (batch, n, height, width, channels) -> max over height.
        by_rows = ops.max(ops.where(rows[None, :, :, None, None], inputs[:, None], lowest), 2)
        # Then columns: (batch, n, n, width, channels) -> max over width.
        masked = ops.where(columns[None, None, :, :, None], by_rows[:, :, None], lowest)
        return ops.max(masked, axis=3)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1] * sum(n * n for n in self.levels))

    def get_config(self):
        config = super().get_config()
        config.update(levels=list(self.levels), mode=self.mode)
        return config
