"""From-scratch reference operations in pure NumPy, readable over fast.

Every array is NHWC (batch, height, width, channels), as in Keras. What deep learning
calls "convolution" is, strictly, cross-correlation: the kernel is not flipped. The
functions here follow Keras and do not flip it either.
"""

import numpy as np

# --- Convolution, pooling and size formulas (notebooks 01 and 02) -------------------------

_PADDINGS = ("valid", "same")


def _pair(value, name: str) -> tuple[int, int]:
    """Turn an int or a pair of ints into a (height, width) pair of positive ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{name} must be a positive int or a pair of positive ints, got {value!r}")
    if min(pair) < 1:
        raise ValueError(f"{name} must be positive (at least 1), got {value!r}")
    return pair


def _positive_int(value, name: str) -> int:
    """Return value as an int if it is a positive int; raise ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int (at least 1), got {value!r}")
    return int(value)


def _check_padding(padding) -> str | int:
    """Return "valid", "same" or a non-negative int; raise ValueError otherwise."""
    if isinstance(padding, str) and padding.lower() in _PADDINGS:
        return padding.lower()
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool) and padding >= 0:
        return int(padding)
    raise ValueError(f'padding must be "valid", "same" or an int >= 0, got {padding!r}')


def _check_nhwc(x, name: str = "x") -> np.ndarray:
    """Return x as a float64 array of rank 4 (batch, height, width, channels)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(
            f"{name} must have rank 4 (batch, height, width, channels), "
            f"got rank {x.ndim} with shape {x.shape}"
        )
    return x


def padding_amounts(
    input_size: int, kernel_size: int, stride: int = 1, padding: str | int = "valid"
) -> tuple[int, int]:
    """Zeros added before and after one spatial axis, the way Keras and TensorFlow pad.

    "valid" adds nothing. "same" adds just enough for ``ceil(input_size / stride)`` outputs;
    when the total is odd, the extra zero goes *after* (bottom or right), as in TensorFlow.
    An int ``p`` adds ``p`` zeros on each side.

    Parameters
    ----------
    input_size : int
        Height or width of the input.
    kernel_size : int
        Height or width of the kernel (or pooling window).
    stride : int, default=1
        Step between two windows.
    padding : {"valid", "same"} or int, default="valid"
        Padding mode, or zeros on each side.

    Returns
    -------
    tuple of int
        ``(before, after)``.

    Raises
    ------
    ValueError
        For a non-positive size, kernel or stride, or an unknown padding.

    Examples
    --------
    >>> padding_amounts(5, 3, 1, "same")
    (1, 1)
    >>> padding_amounts(6, 3, 2, "same")  # 3 outputs need 7 inputs: 0 before, 1 after
    (0, 1)
    """
    input_size = _positive_int(input_size, "input_size")
    kernel_size = _positive_int(kernel_size, "kernel_size")
    stride = _positive_int(stride, "stride")
    padding = _check_padding(padding)
    if padding == "valid":
        return 0, 0
    if padding == "same":
        n_out = -(-input_size // stride)  # ceil(input_size / stride)
        total = max((n_out - 1) * stride + kernel_size - input_size, 0)
        return total // 2, total - total // 2
    return padding, padding


def conv_output_size(
    input_size: int, kernel_size: int, stride: int = 1, padding: str | int = 0
) -> int:
    """Output size of a convolution or pooling along one axis: ``(W - F + 2P) / S + 1``.

    ``W`` is the input size, ``F`` the kernel size, ``P`` the zeros on each side and ``S``
    the stride. The division is rounded down, as Keras does when the windows do not fit
    exactly. With Keras' names: "valid" means ``P = 0``, which gives
    ``floor((W - F) / S) + 1``; "same" pads so that the output is ``ceil(W / S)``, whatever
    the kernel size.

    Parameters
    ----------
    input_size : int
        W, the input height or width.
    kernel_size : int
        F, the kernel (or pooling window) height or width.
    stride : int, default=1
        S, the step between two windows.
    padding : {"valid", "same"} or int, default=0
        P, the zeros added on each side, or a Keras padding name.

    Returns
    -------
    int
        The output height or width.

    Raises
    ------
    ValueError
        If the stride is not positive, the padding is unknown, or the kernel does not fit
        in the padded input (``F > W + 2P``).

    Examples
    --------
    >>> conv_output_size(5, 3, stride=1, padding=1)  # the 5x5 example: size is kept
    5
    >>> conv_output_size(427, 7, stride=1, padding="same")
    427
    >>> conv_output_size(427, 2, stride=2, padding="valid")  # MaxPool2D(2) on 427 rows
    213
    """
    before, after = padding_amounts(input_size, kernel_size, stride, padding)
    padded = input_size + before + after
    if kernel_size > padded:
        raise ValueError(
            f"kernel size {kernel_size} is larger than the padded input size {padded} "
            f"(input {input_size}, padding {padding!r}); use a smaller kernel or more padding"
        )
    return (padded - kernel_size) // stride + 1


def receptive_field(layers) -> int:
    """Size of the input window that one output pixel of a stack of layers sees.

    Each layer is ``(kernel_size, stride)`` or just ``kernel_size`` (stride 1). With ``r``
    the receptive field and ``j`` the distance in input pixels between two neighbouring
    outputs so far, a layer with kernel ``k`` and stride ``s`` gives
    ``r += (k - 1) * j`` and then ``j *= s``. Padding does not change the result.

    Parameters
    ----------
    layers : sequence of int or (int, int)
        Kernel sizes, or (kernel size, stride) pairs, from the input upwards.

    Returns
    -------
    int
        The receptive field along one axis (1 for an empty stack).

    Raises
    ------
    ValueError
        For a kernel size or stride below 1, or a malformed layer.

    Examples
    --------
    >>> receptive_field([3, 3, 3])  # three stacked 3x3 convolutions see 7x7
    7
    >>> receptive_field([(7, 2), (3, 2), (3, 1)])  # stride 2 layers widen later layers' view
    19
    """
    field, jump = 1, 1
    for i, layer in enumerate(layers):
        if isinstance(layer, (tuple, list)):
            if len(layer) != 2:
                raise ValueError(
                    f"layer {i} must be a kernel size or a (kernel size, stride) pair, "
                    f"got {layer!r}"
                )
            kernel, stride = layer
        else:
            kernel, stride = layer, 1
        kernel = _positive_int(kernel, f"kernel size of layer {i}")
        stride = _positive_int(stride, f"stride of layer {i}")
        field += (kernel - 1) * jump
        jump *= stride
    return field


def _pad_nhwc(x: np.ndarray, pads, value: float = 0.0) -> np.ndarray:
    """Pad the height and width axes of an NHWC array with a constant."""
    (top, bottom), (left, right) = pads
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def _window_geometry(x, window, strides, padding, what: str):
    """Check the arguments of a sliding-window op; return sizes, strides, pads and output size."""
    window = _pair(window, what)
    strides = _pair(strides, "strides")
    padding = _check_padding(padding)
    _, height, width, _ = x.shape
    pads = []
    out = []
    for size, k, s, axis in zip((height, width), window, strides, ("height", "width"), strict=True):
        before, after = padding_amounts(size, k, s, padding)
        if k > size + before + after:
            raise ValueError(
                f"{what} {k} is larger than the input {axis} {size} with padding {padding!r}; "
                f'use a smaller {what}, padding="same" or a larger input'
            )
        pads.append((before, after))
        out.append((size + before + after - k) // s + 1)
    return window, strides, pads, tuple(out)


def _check_conv_args(x, kernel, bias):
    x = _check_nhwc(x)
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 4:
        raise ValueError(
            "kernel must have rank 4 (height, width, in_channels, out_channels), "
            f"got rank {kernel.ndim} with shape {kernel.shape}"
        )
    if kernel.shape[2] != x.shape[3]:
        raise ValueError(
            f"kernel expects {kernel.shape[2]} input channels but x has {x.shape[3]} "
            f"(kernel shape {kernel.shape}, x shape {x.shape})"
        )
    if bias is None:
        bias = np.zeros(kernel.shape[3])
    bias = np.asarray(bias, dtype=np.float64)
    if bias.shape != (kernel.shape[3],):
        raise ValueError(
            f"bias must have shape ({kernel.shape[3]},), one value per output channel, "
            f"got shape {bias.shape}"
        )
    return x, kernel, bias


def conv2d_loops(
    x: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray | None = None,
    strides: int | tuple[int, int] = 1,
    padding: str | int = "valid",
) -> np.ndarray:
    """2D convolution with plain loops: the readable version of :func:`conv2d`.

    For every image, output row and column and output channel, take the window of the
    padded input under the kernel, multiply it element by element with that channel's
    kernel (over all input channels) and add everything up, plus the bias. Like Keras'
    Conv2D it does not flip the kernel (cross-correlation). Slow: use it on small inputs.

    Parameters and return value are those of :func:`conv2d`.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> conv2d_loops(x, np.ones((2, 2, 1, 1)), strides=2)[0, :, :, 0]
    array([[10., 18.],
           [42., 50.]])
    """
    x, kernel, bias = _check_conv_args(x, kernel, bias)
    (kh, kw), (sh, sw), pads, (out_h, out_w) = _window_geometry(
        x, kernel.shape[:2], strides, padding, "kernel size"
    )
    xp = _pad_nhwc(x, pads)
    n_images, n_filters = x.shape[0], kernel.shape[3]
    out = np.zeros((n_images, out_h, out_w, n_filters))
    for n in range(n_images):
        for i in range(out_h):
            for j in range(out_w):
                window = xp[n, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
                for f in range(n_filters):
                    out[n, i, j, f] = np.sum(window * kernel[:, :, :, f]) + bias[f]
    return out


def conv2d(
    x: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray | None = None,
    strides: int | tuple[int, int] = 1,
    padding: str | int = "valid",
) -> np.ndarray:
    """2D convolution (cross-correlation) of an NHWC batch, as Keras' Conv2D computes it.

    Same numbers as :func:`conv2d_loops`, computed kernel tap by kernel tap: for each of
    the ``kh * kw`` kernel positions, the input pixels it meets (one strided slice of the
    padded input) are multiplied by that tap's ``in_channels x out_channels`` weights and
    added to the output. The kernel is not flipped (that would be a true convolution).

    Parameters
    ----------
    x : array_like of shape (batch, height, width, in_channels)
        Input images.
    kernel : array_like of shape (kh, kw, in_channels, out_channels)
        Filters, laid out as Keras' ``Conv2D.kernel``.
    bias : array_like of shape (out_channels,), optional
        One value per output channel; zero when omitted.
    strides : int or (int, int), default=1
        Step between two windows, vertically and horizontally.
    padding : {"valid", "same"} or int, default="valid"
        "valid": no padding; "same": Keras/TensorFlow padding (output ``ceil(size/stride)``,
        an odd extra zero goes at the bottom/right); int: that many zeros on each side.

    Returns
    -------
    ndarray of shape (batch, out_height, out_width, out_channels), dtype float64
        Feature maps; sizes follow :func:`conv_output_size`.

    Raises
    ------
    ValueError
        For arrays of the wrong rank, mismatched channels or bias, a stride below 1, an
        unknown padding, or a kernel larger than the (padded) input.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> conv2d(x, np.ones((3, 3, 1, 1)), padding="same")[0, :, :, 0]
    array([[10., 18., 24., 18.],
           [27., 45., 54., 39.],
           [51., 81., 90., 63.],
           [42., 66., 72., 50.]])
    """
    x, kernel, bias = _check_conv_args(x, kernel, bias)
    (kh, kw), (sh, sw), pads, (out_h, out_w) = _window_geometry(
        x, kernel.shape[:2], strides, padding, "kernel size"
    )
    xp = _pad_nhwc(x, pads)
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[3]))
    for di in range(kh):
        for dj in range(kw):
            patch = xp[:, di : di + (out_h - 1) * sh + 1 : sh, dj : dj + (out_w - 1) * sw + 1 : sw]
            out += patch @ kernel[di, dj]  # (batch, out_h, out_w, in) @ (in, out)
    return out + bias


def pool2d(
    x: np.ndarray,
    pool_size: int | tuple[int, int] = 2,
    strides: int | tuple[int, int] | None = None,
    padding: str = "valid",
    mode: str = "max",
) -> np.ndarray:
    """Max or average pooling of an NHWC batch, as Keras' MaxPool2D / AvgPool2D compute it.

    Each channel is pooled on its own, so the channel count is kept. Written as loops over
    output positions: for each one, take the input pixels of its window (the part inside
    the image, since padding adds no pixels) and keep their maximum or their mean. With
    ``padding="same"`` a window on the border therefore averages only the real pixels it
    covers, exactly as Keras does (padded zeros are not counted).

    Parameters
    ----------
    x : array_like of shape (batch, height, width, channels)
        Input feature maps.
    pool_size : int or (int, int), default=2
        Window height and width.
    strides : int or (int, int), optional
        Step between two windows; defaults to ``pool_size``, as in Keras.
    padding : {"valid", "same"}, default="valid"
        Keras padding: "same" gives ``ceil(size / stride)`` outputs.
    mode : {"max", "avg"}, default="max"
        Keep the largest value, or the mean ("average" is accepted too).

    Returns
    -------
    ndarray of shape (batch, out_height, out_width, channels), dtype float64
        Pooled maps.

    Raises
    ------
    ValueError
        For an input that is not rank 4, a pool size or stride below 1, an unknown padding
        or mode, or a window larger than a "valid" input.

    Examples
    --------
    >>> x = np.arange(1.0, 17.0).reshape(1, 4, 4, 1)
    >>> pool2d(x, 2)[0, :, :, 0]
    array([[ 6.,  8.],
           [14., 16.]])
    >>> pool2d(x, 2, mode="avg")[0, :, :, 0]
    array([[ 3.5,  5.5],
           [11.5, 13.5]])
    """
    x = _check_nhwc(x)
    modes = {"max": np.max, "avg": np.mean, "average": np.mean}
    if mode not in modes:
        raise ValueError(f'mode must be "max" or "avg", got {mode!r}')
    if not (isinstance(padding, str) and padding.lower() in _PADDINGS):
        raise ValueError(f'padding must be "valid" or "same", got {padding!r}')
    strides = pool_size if strides is None else strides
    (ph, pw), (sh, sw), pads, (out_h, out_w) = _window_geometry(
        x, pool_size, strides, padding, "pool size"
    )
    (top, _), (left, _) = pads
    reduce = modes[mode]
    height, width = x.shape[1:3]
    out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
    for i in range(out_h):
        # Window rows in input coordinates, cut to the image (padding adds no pixels).
        r0, r1 = max(i * sh - top, 0), min(i * sh - top + ph, height)
        for j in range(out_w):
            c0, c1 = max(j * sw - left, 0), min(j * sw - left + pw, width)
            out[:, i, j, :] = reduce(x[:, r0:r1, c0:c1, :], axis=(1, 2))
    return out


def _check_p(p) -> float:
    """Return p as a float if it is a finite real number >= 1; raise ValueError otherwise."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise ValueError(f"p must be a real number >= 1, got {p!r}")
    if not np.isfinite(p) or p < 1:
        raise ValueError(f"p must be a finite number >= 1, got {p!r}")
    return float(p)


def lp_pool2d(
    x: np.ndarray,
    p: float,
    pool_size: int | tuple[int, int] = 2,
    strides: int | tuple[int, int] | None = None,
    padding: str = "valid",
) -> np.ndarray:
    """Lp pooling of an NHWC batch: ``(mean |x|^p) ** (1 / p)`` over each window.

    The average form of the p-norm: ``p = 1`` gives average pooling of ``|x|``, and as
    ``p`` grows the largest ``|x|`` of the window dominates, so the result tends to max
    pooling of ``|x|``. For a window of ``n`` values with largest ``|x|`` equal to ``M``,
    ``M * n ** (-1 / p) <= result <= M``: with 2x2 windows the result is within 16% of
    the maximum at ``p = 8`` and within 2.2% at ``p = 64``. Windows and padding are those of
    :func:`pool2d`: with ``padding="same"`` a border window averages only the cells inside
    the image, as ``keras.layers.AveragePooling2D`` does.

    Parameters
    ----------
    x : array_like of shape (batch, height, width, channels)
        Input feature maps.
    p : float
        The exponent, a finite number >= 1.
    pool_size : int or (int, int), default=2
        Window height and width.
    strides : int or (int, int), optional
        Step between two windows; defaults to ``pool_size``.
    padding : {"valid", "same"}, default="valid"
        Keras padding.

    Returns
    -------
    ndarray of shape (batch, out_height, out_width, channels), dtype float64
        Pooled maps, all >= 0.

    Raises
    ------
    ValueError
        For ``p`` below 1, infinite or NaN, and for the arguments :func:`pool2d` rejects.

    Examples
    --------
    >>> x = np.array([1.0, -3.0, 0.0, 2.0]).reshape(1, 2, 2, 1)
    >>> float(lp_pool2d(x, 1)[0, 0, 0, 0])  # mean of |x|
    1.5
    >>> round(float(lp_pool2d(x, 2)[0, 0, 0, 0]), 4)  # sqrt((1 + 9 + 0 + 4) / 4)
    1.8708
    """
    x = _check_nhwc(x)
    p = _check_p(p)
    if not (isinstance(padding, str) and padding.lower() in _PADDINGS):
        raise ValueError(f'padding must be "valid" or "same", got {padding!r}')
    strides = pool_size if strides is None else strides
    (ph, pw), (sh, sw), pads, (out_h, out_w) = _window_geometry(
        x, pool_size, strides, padding, "pool size"
    )
    (top, _), (left, _) = pads
    height, width = x.shape[1:3]
    magnitude = np.abs(x)
    out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
    for i in range(out_h):
        r0, r1 = max(i * sh - top, 0), min(i * sh - top + ph, height)
        for j in range(out_w):
            c0, c1 = max(j * sw - left, 0), min(j * sw - left + pw, width)
            window = magnitude[:, r0:r1, c0:c1, :]
            # Divide by the window's largest |x| before raising to p, so that a large p
            # neither overflows nor underflows; an all-zero window stays 0.
            top_value = window.max(axis=(1, 2), keepdims=True)
            scale = np.where(top_value > 0, top_value, 1.0)
            mean = np.mean((window / scale) ** p, axis=(1, 2))
            out[:, i, j, :] = scale[:, 0, 0, :] * mean ** (1 / p)
    return out


# --- Convolution as matrix multiplication (notebook 09) ------------------------------------


def _check_2d(name: str, array) -> np.ndarray:
    """Return array as a non-empty 2D array; raise ValueError otherwise."""
    array = np.asarray(array)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(
            f"{name} must be a non-empty 2D array (height, width), got shape {array.shape}"
        )
    return array


def toeplitz_matrix(
    kernel: np.ndarray, input_shape: tuple[int, int], mode: str = "full"
) -> np.ndarray:
    """Build the doubly blocked Toeplitz matrix that performs a 2D convolution.

    For a single-channel image ``image`` of shape ``input_shape``,
    ``toeplitz_matrix(kernel, image.shape) @ image.ravel()`` reshaped to the output shape
    equals ``scipy.signal.convolve2d(image, kernel, mode)``: a true convolution (the
    kernel flipped), as in signal processing. For the cross-correlation that deep learning
    calls convolution, pass ``kernel[::-1, ::-1]``.

    The matrix has one block row per output row and one block column per input row; block
    ``(r, c)`` is the Toeplitz matrix (``scipy.linalg.toeplitz``) of kernel row ``r - c``,
    or zero where that row does not exist.

    Parameters
    ----------
    kernel : array_like of shape (kh, kw)
        The filter. It may be larger than the input in "full" mode.
    input_shape : tuple of int
        Height and width ``(h, w)`` of the input image.
    mode : {"full", "valid"}, default="full"
        "full": output ``(h + kh - 1, w + kw - 1)``, every position where kernel and
        input overlap. "valid": output ``(h - kh + 1, w - kw + 1)``, only positions where
        the kernel fits inside the input (it must not be larger than the input).

    Returns
    -------
    ndarray of shape (out_h * out_w, h * w)
        Row-major flattening on both sides; the dtype is the kernel's (float for ints).

    Raises
    ------
    ValueError
        If the kernel is not a non-empty 2D array, ``input_shape`` is not two positive
        ints, ``mode`` is unknown, or the kernel is larger than the input in "valid" mode.

    Examples
    --------
    >>> image = np.array([[1, 2, 3], [4, 5, 6]])
    >>> kernel = np.array([[10, 20], [30, 40]])
    >>> matrix = toeplitz_matrix(kernel, image.shape)
    >>> matrix.shape
    (12, 6)
    >>> (matrix @ image.ravel()).reshape(3, 4)
    array([[ 10.,  40.,  70.,  60.],
           [ 70., 230., 330., 240.],
           [120., 310., 380., 240.]])
    """
    from scipy.linalg import toeplitz

    kernel = _check_2d("kernel", kernel)
    h, w = _pair(input_shape, "input_shape")
    if mode not in ("full", "valid"):
        raise ValueError(f'mode must be "full" or "valid", got {mode!r}')
    kh, kw = kernel.shape
    if mode == "valid" and (kh > h or kw > w):
        raise ValueError(
            f"in 'valid' mode the kernel {kernel.shape} must fit inside the input {(h, w)}"
        )
    dtype = np.float64 if kernel.dtype.kind in "biu" else kernel.dtype
    out_h, out_w = h + kh - 1, w + kw - 1

    # One Toeplitz block per kernel row: block[s, t] = kernel[row, s - t] (zero outside).
    blocks = []
    for row in kernel:
        first_column = np.zeros(out_w, dtype=dtype)
        first_column[:kw] = row
        first_row = np.zeros(w, dtype=dtype)
        first_row[0] = row[0]
        blocks.append(toeplitz(first_column, first_row))

    # Block (r, c) holds kernel row r - c: the blocks repeat down each diagonal.
    matrix = np.zeros((out_h * out_w, h * w), dtype=dtype)
    for r in range(out_h):
        for c in range(h):
            if 0 <= r - c < kh:
                matrix[r * out_w : (r + 1) * out_w, c * w : (c + 1) * w] = blocks[r - c]

    if mode == "valid":
        rows = np.arange(kh - 1, h)[:, None] * out_w + np.arange(kw - 1, w)[None, :]
        matrix = matrix[rows.ravel()]
    return matrix


def im2col(
    x: np.ndarray,
    kernel_size: int | tuple[int, int],
    strides: int | tuple[int, int] = 1,
    padding: str = "valid",
) -> np.ndarray:
    """Unfold every kernel-sized patch of an NHWC batch into one row of a matrix.

    Row ``(n, i, j)`` (row-major) holds the patch under the kernel for output pixel
    ``(i, j)`` of image ``n``, flattened in ``(kh, kw, channels)`` order, the order of a
    Keras Conv2D kernel of shape ``(kh, kw, channels, filters)``. A convolution is then one
    matrix product::

        out = im2col(x, (kh, kw), strides, padding) @ kernel.reshape(-1, filters)
        out = out.reshape(n, out_h, out_w, filters)  # + bias

    which equals ``keras.layers.Conv2D(filters, (kh, kw), strides, padding)`` with the same
    weights. This is how fast libraries compute convolutions: one large matrix product
    (GEMM) instead of many small loops.

    Parameters
    ----------
    x : array_like of shape (n, h, w, c)
        Input batch, NHWC.
    kernel_size : int or tuple of int
        Kernel height and width.
    strides : int or tuple of int, default=1
        Step between patches, vertically and horizontally.
    padding : {"valid", "same"} or int, default="valid"
        "valid": no padding, output ``(h - kh) // sh + 1``; "same": zero padding as in Keras,
        output ``ceil(h / sh)``; int: that many zeros on each side.

    Returns
    -------
    ndarray of shape (n * out_h * out_w, kh * kw * c)
        The patches matrix, same dtype as ``x``.

    Raises
    ------
    ValueError
        If ``x`` is not 4D, the kernel size or strides are not positive ints, ``padding``
        is unknown, or the kernel is larger than the (padded) input.

    Examples
    --------
    >>> x = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
    >>> patches = im2col(x, 3)
    >>> patches.shape  # 2 images x 2 x 2 positions, 3 x 3 x 3 values per patch
    (8, 27)
    >>> kernel = np.ones((3, 3, 3, 5), dtype=np.float32)
    >>> (patches @ kernel.reshape(-1, 5)).reshape(2, 2, 2, 5).shape
    (2, 2, 2, 5)
    """
    x = np.asarray(x)  # keeps the dtype: float32 in, float32 patches out
    if x.ndim != 4:
        raise ValueError(
            f"x must have rank 4 (batch, height, width, channels), "
            f"got rank {x.ndim} with shape {x.shape}"
        )
    (kh, kw), (sh, sw), pads, (out_h, out_w) = _window_geometry(
        x, kernel_size, strides, padding, "kernel size"
    )
    x = _pad_nhwc(x, pads)
    n, _, _, c = x.shape

    # Loop over the kh * kw kernel offsets (not over pixels): each offset contributes one
    # strided slice of the input, which fills `c` columns of every row at once.
    patches = np.empty((n, out_h, out_w, kh, kw, c), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            patches[:, :, :, a, b, :] = x[
                :, a : a + sh * (out_h - 1) + 1 : sh, b : b + sw * (out_w - 1) + 1 : sw, :
            ]
    return patches.reshape(n * out_h * out_w, kh * kw * c)


def conv_transpose2d(
    x: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray | None = None,
    strides: int | tuple[int, int] = 1,
    padding: str = "valid",
) -> np.ndarray:
    """Transposed convolution with plain loops, as ``keras.layers.Conv2DTranspose``.

    Every input pixel stamps a copy of the kernel, scaled by the pixel's value, onto the
    output, the copies ``strides`` pixels apart; overlapping stamps add up::

        out[n, i * sh + a, j * sw + b, f] += x[n, i, j, c] * kernel[a, b, f, c]

    It equals multiplying the flattened input by the transpose of the matrix of the
    (valid, same-stride) convolution with that kernel, hence the name; with stride 1 and
    one channel it is the "full" convolution of ``x`` with the kernel.

    Parameters
    ----------
    x : array_like of shape (n, h, w, c_in)
        Input batch, NHWC.
    kernel : array_like of shape (kh, kw, c_out, c_in)
        Kernel in Keras' Conv2DTranspose layout (output channels before input channels).
    bias : array_like of shape (c_out,), optional
        Added to every output pixel. None means no bias.
    strides : int or tuple of int, default=1
        Up-sampling factor, vertically and horizontally.
    padding : {"valid", "same"}, default="valid"
        "valid": output ``(h - 1) * sh + max(kh, sh)`` rows. "same": output ``h * sh``
        rows, cropped from the full result as Keras does.

    Returns
    -------
    ndarray of shape (n, out_h, out_w, c_out)
        Float64 result.

    Raises
    ------
    ValueError
        If the arrays do not have the shapes above, their channels do not match, the
        strides are not positive ints, or ``padding`` is unknown.

    Examples
    --------
    >>> x = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 2, 2, 1)
    >>> kernel = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(2, 2, 1, 1)
    >>> conv_transpose2d(x, kernel)[0, :, :, 0]
    array([[ 0.,  0.,  1.],
           [ 0.,  4.,  6.],
           [ 4., 12.,  9.]])
    """
    x = _check_nhwc(x)
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 4 or 0 in kernel.shape:
        raise ValueError(
            "kernel must be a non-empty 4D array (kh, kw, out_channels, in_channels), "
            f"got shape {kernel.shape}"
        )
    if kernel.shape[3] != x.shape[3]:
        raise ValueError(
            f"kernel expects {kernel.shape[3]} input channels (its last axis), "
            f"but x has {x.shape[3]}"
        )
    kh, kw, c_out, _ = kernel.shape
    if bias is not None:
        bias = np.asarray(bias)
        if bias.shape != (c_out,):
            raise ValueError(f"bias must have shape ({c_out},), got {bias.shape}")
    sh, sw = _pair(strides, "strides")
    if padding not in ("valid", "same"):
        raise ValueError(f'padding must be "valid" or "same", got {padding!r}')
    n, h, w, c_in = x.shape

    # Stamp the kernel for every input pixel onto a buffer big enough for all stamps.
    full_h, full_w = (h - 1) * sh + max(kh, sh), (w - 1) * sw + max(kw, sw)
    full = np.zeros((n, full_h, full_w, c_out))
    for i in range(h):
        for j in range(w):
            for ch in range(c_in):
                # (n, 1, 1, 1) pixel values times (kh, kw, c_out) kernel slice.
                stamp = x[:, i, j, ch, None, None, None] * kernel[:, :, :, ch]
                full[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :] += stamp

    if padding == "valid":
        out = full
    else:
        # Keras crops the padding that a "same" convolution would have added.
        top, _ = padding_amounts(h * sh, kh, sh, "same")
        left, _ = padding_amounts(w * sw, kw, sw, "same")
        out = full[:, top : top + h * sh, left : left + w * sw, :]
    if bias is not None:
        out = out + bias
    return out
