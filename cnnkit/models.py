"""Model builders for the course. Each returns an uncompiled Keras model.

Every model takes raw pixels, 0..255 as the loaders return them (``uint8`` or any numeric
type): its first layer is a ``keras.layers.Rescaling`` named ``rescaling``, so a saved model
needs no preprocessing that only its notebook knows about:
``keras.models.load_model(path).predict(images)`` is right for images straight from
``cnnkit.data``. Digit models scale to [0, 1], the CIFAR-10 models to [-1, 1].
"""

import keras
from keras import layers


def mnist_cnn(input_shape: tuple[int, int, int] = (28, 28, 1), n_classes: int = 10) -> keras.Model:
    """Build notebook 03's small CNN for 28x28 digit images.

    Rescaling(1/255) -> Conv2D(32, 3, same, relu) -> Conv2D(64, 3, same, relu) ->
    MaxPool2D(2) -> Flatten -> Dropout(0.25) -> Dense(128, relu) -> Dropout(0.5) ->
    Dense(n_classes, softmax). It takes raw 0..255 pixels.
    For 28x28x1 input and 10 classes it has 1,625,866 parameters.

    Parameters
    ----------
    input_shape : tuple of int, default=(28, 28, 1)
        Height, width and channels of one image.
    n_classes : int, default=10
        Number of output classes.

    Returns
    -------
    keras.Sequential
        The uncompiled model.

    Examples
    --------
    >>> model = mnist_cnn()
    >>> model.count_params()
    1625866
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Rescaling(1 / 255, name="rescaling"),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPool2D(2),
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(n_classes, activation="softmax"),
        ],
        name="mnist_cnn",
    )


def resnet34(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    n_classes: int = 10,
    bn_momentum: float = 0.99,
    centre_tap: bool = False,
) -> keras.Model:
    """Build ResNet-34 from residual units, as a Sequential model.

    Rescaling(1/255) (it takes raw 0..255 pixels), then the stem: Conv2D(64, 7, strides=2,
    same, no bias) -> BatchNormalization -> ReLU -> MaxPool2D(3, strides=2, same). Then 16
    :class:`cnnkit.layers.ResidualUnit` blocks, 3 x 64, 4 x 128, 6 x 256 and 3 x 512
    filters, with stride 2 where the filter count changes, then GlobalAvgPool2D -> Flatten
    -> Dense(n_classes, softmax).
    For 28x28x1 input and 10 classes it has 21,300,554 parameters.

    Parameters
    ----------
    input_shape : tuple of int, default=(28, 28, 1)
        Height, width and channels of one image.
    n_classes : int, default=10
        Number of output classes.
    bn_momentum : float, default=0.99
        Momentum of every batch norm's moving statistics (0.99 is Keras' default; 0.9 suits
        short trainings on small data sets).
    centre_tap : bool, default=False
        Use :class:`cnnkit.layers.CentreTapResidualUnit`, which computes the same as
        ``ResidualUnit`` but runs the 3x3 convolutions of 1x1 maps (the last stage on 28x28
        inputs) as matrix products, faster on CPUs.

    Returns
    -------
    keras.Sequential
        The uncompiled model; layers are named ``rescaling``, ``stem_conv``, ``stem_bn``,
        ``stem_relu``, ``stem_pool``, ``stage2_unit1`` ... ``stage5_unit3``, ``avg_pool``,
        ``flatten``, ``predictions``.

    Examples
    --------
    >>> model = resnet34()
    >>> model.count_params()
    21300554
    """
    from cnnkit.layers import CentreTapResidualUnit, ResidualUnit

    unit_class = CentreTapResidualUnit if centre_tap else ResidualUnit
    model = keras.Sequential(name="resnet34")
    model.add(keras.Input(shape=input_shape))
    model.add(layers.Rescaling(1 / 255, name="rescaling"))
    model.add(layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False, name="stem_conv"))
    model.add(layers.BatchNormalization(momentum=bn_momentum, name="stem_bn"))
    model.add(layers.Activation("relu", name="stem_relu"))
    model.add(layers.MaxPool2D(3, strides=2, padding="same", name="stem_pool"))
    prev_filters = 64
    stage, unit = 1, 0
    for filters in [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3:
        if filters != prev_filters:
            stage, unit = stage + 1, 0
        unit += 1
        strides = 1 if filters == prev_filters else 2
        model.add(
            unit_class(
                filters,
                strides=strides,
                bn_momentum=bn_momentum,
                name=f"stage{stage + 1}_unit{unit}",
            )
        )
        prev_filters = filters
    model.add(layers.GlobalAvgPool2D(name="avg_pool"))
    model.add(layers.Flatten(name="flatten"))
    model.add(layers.Dense(n_classes, activation="softmax", name="predictions"))
    return model


_LENET_POOLING = {"avg": layers.AvgPool2D, "max": layers.MaxPool2D}


def lenet5(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    n_classes: int = 10,
    activation: str = "sigmoid",
    pooling: str = "avg",
) -> keras.Model:
    """Build LeNet-5 (LeCun et al., 1998) in its common modern form, as a Sequential model.

    Rescaling(1/255) (it takes raw 0..255 pixels) -> Conv2D(6, 5, same) -> Pool(2, 2) ->
    Conv2D(16, 5) -> Pool(2, 2) -> Flatten ->
    Dense(120) -> Dense(84) -> Dense(n_classes), with ``activation`` after every layer
    but the last, which returns logits (train with ``from_logits=True``). The defaults
    (sigmoid, average pooling) follow the original; ``activation="relu", pooling="max"``
    gives the modern variant with the same shapes and parameters. For 28x28x1 input and
    10 classes it has 61,706 parameters, and the feature maps are 28x28x6, 14x14x6,
    10x10x16 and 5x5x16 (400 values after Flatten).

    Parameters
    ----------
    input_shape : tuple of int, default=(28, 28, 1)
        Height, width and channels of one image; height and width must be at least 12.
    n_classes : int, default=10
        Number of output classes (logits).
    activation : str, default="sigmoid"
        Any Keras activation name, e.g. "sigmoid", "tanh" or "relu".
    pooling : {"avg", "max"}, default="avg"
        Average pooling (the original "subsampling") or max pooling.

    Returns
    -------
    keras.Sequential
        The uncompiled model; layers are named ``rescaling``, then ``c1_conv``, ``s2_pool``,
        ``c3_conv``, ``s4_pool``, ``flatten``, ``c5_dense``, ``f6_dense`` and ``output`` after
        the paper's C1, S2, C3, S4, C5 and F6.

    Raises
    ------
    ValueError
        For an input shape that is not three positive ints or is smaller than 12x12, fewer
        than 2 classes, an unknown activation or an unknown pooling.

    Examples
    --------
    >>> model = lenet5()
    >>> model.count_params()
    61706
    >>> model.output_shape
    (None, 10)
    """
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if (
        shape is None
        or len(shape) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)
    ):
        raise ValueError(
            f"input_shape must be (height, width, channels) of positive ints, got {input_shape!r}"
        )
    if shape[0] < 12 or shape[1] < 12:
        raise ValueError(
            f"LeNet-5 needs images of at least 12x12 pixels (two 2x2 poolings around a "
            f"5x5 valid convolution), got {shape[0]}x{shape[1]}"
        )
    if not isinstance(n_classes, int) or isinstance(n_classes, bool) or n_classes < 2:
        raise ValueError(f"n_classes must be an int of at least 2, got {n_classes!r}")
    if pooling not in _LENET_POOLING:
        raise ValueError(f'pooling must be "avg" or "max", got {pooling!r}')
    try:
        if not isinstance(activation, str):
            raise ValueError
        keras.activations.get(activation)
    except ValueError:
        raise ValueError(
            f'activation must be the name of a Keras activation such as "sigmoid" or "relu", '
            f"got {activation!r}"
        ) from None
    pool = _LENET_POOLING[pooling]
    return keras.Sequential(
        [
            keras.Input(shape=shape),
            layers.Rescaling(1 / 255, name="rescaling"),
            layers.Conv2D(6, 5, padding="same", activation=activation, name="c1_conv"),
            pool(2, strides=2, name="s2_pool"),
            layers.Conv2D(16, 5, activation=activation, name="c3_conv"),
            pool(2, strides=2, name="s4_pool"),
            layers.Flatten(name="flatten"),
            layers.Dense(120, activation=activation, name="c5_dense"),
            layers.Dense(84, activation=activation, name="f6_dense"),
            layers.Dense(n_classes, name="output"),
        ],
        name=f"lenet5_{activation}_{pooling}",
    )


def simple_cnn(input_shape: tuple[int, int, int] = (32, 32, 3), n_classes: int = 10) -> keras.Model:
    """Build ``SimpleCNN``, a two-convolution PyTorch network for CIFAR-10, in Keras.

    ``SimpleCNN`` is a small network in the style of the PyTorch CIFAR-10 tutorial
    ("Training a Classifier", whose own network is ``Net``), with 3x3 convolutions of 16 and
    32 filters and one linear layer. Rescaling (0..255 -> [-1, 1], the
    tutorial's ``Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))``) -> Conv2D(16, 3, same, relu)
    -> MaxPool2D(2) -> Conv2D(32, 3, same, relu) -> MaxPool2D(2) -> Flatten
    -> Dense(n_classes). The last layer returns logits (train with
    ``from_logits=True``). For 32x32x3 input and 10 classes the maps are 32x32x16,
    16x16x16, 16x16x32 and 8x8x32, Flatten gives 2,048 values, and there are 25,578
    parameters. (The PyTorch original flattens with ``x.view(-1, 32 * 16 * 16)``, a size
    that does not match the 8x8 maps; ``Flatten`` needs no hand-computed size.)

    Parameters
    ----------
    input_shape : tuple of int, default=(32, 32, 3)
        Height, width and channels of one image.
    n_classes : int, default=10
        Number of output classes (logits).

    Returns
    -------
    keras.Sequential
        The uncompiled model; layers are named ``conv1``, ``pool1``, ``conv2``, ``pool2``,
        ``flatten`` and ``logits``.

    Examples
    --------
    >>> model = simple_cnn()
    >>> model.count_params()
    25578
    >>> model.get_layer("flatten").output.shape
    (None, 2048)
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Rescaling(1 / 127.5, offset=-1, name="rescaling"),
            layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
            layers.MaxPool2D(2, name="pool1"),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPool2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(n_classes, name="logits"),
        ],
        name="simple_cnn",
    )


def cifar_augmentation(shift: float = 0.125, name: str = "augmentation") -> keras.Sequential:
    """Build the random flips and shifts that :func:`cifar_cnn` puts in front of its layers.

    RandomFlip("horizontal") -> RandomTranslation(shift, shift, fill_mode="reflect"). Both
    layers change images only when called with ``training=True`` (inside ``fit``); in
    inference they pass images through unchanged. Use a separate instance to look at
    augmented images, so that the trained model is never called with ``training=True``.

    Parameters
    ----------
    shift : float, default=0.125
        Largest shift, as a fraction of the height and width (0.125: 4 pixels of 32).
    name : str, default="augmentation"
        Name of the returned block.

    Returns
    -------
    keras.Sequential
        Layers named ``flip`` and ``shift``.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
    >>> np.array_equal(cifar_augmentation()(images, training=False), images)
    True
    """
    if not 0.0 <= shift < 1.0:
        raise ValueError(f"shift must be a fraction of the image size in [0, 1), got {shift!r}")
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", name="flip"),
            layers.RandomTranslation(shift, shift, fill_mode="reflect", name="shift"),
        ],
        name=name,
    )


def cifar_cnn(
    input_shape: tuple[int, int, int] = (32, 32, 3),
    n_classes: int = 10,
    stages: tuple[tuple[int, ...], ...] = ((32,), (64, 64), (128, 128), (256,)),
    dropout: float = 0.3,
    augment: bool = False,
    bn_momentum: float = 0.9,
) -> keras.Model:
    """Build notebook 07's VGG-style CNN with batch normalisation, for small colour photos.

    A Rescaling layer maps the raw 0..255 pixels to [-1, 1]. Each stage is one or more
    Conv2D(filters, 3, same, no bias) -> BatchNormalization -> ReLU, followed by
    MaxPool2D(2) in every stage but the last. Then GlobalAvgPool2D -> Dropout(dropout)
    -> Dense(n_classes), which returns logits (train with ``from_logits=True``). With
    ``augment=True`` the block of :func:`cifar_augmentation` (random horizontal flips and
    shifts of up to 4 pixels, active only in training) comes right after the Rescaling.
    For 32x32x3 input, 10 classes and the default stages the maps are 32x32x32, 16x16x64,
    8x8x128 and 4x4x256, and there are 577,514 parameters with or without augmentation.

    Parameters
    ----------
    input_shape : tuple of int, default=(32, 32, 3)
        Height, width and channels of one image; height and width must be divisible by
        2 ** (len(stages) - 1).
    n_classes : int, default=10
        Number of output classes (logits).
    stages : tuple of tuple of int, default=((32,), (64, 64), (128, 128), (256,))
        Filter counts of the convolutions in each stage.
    dropout : float, default=0.3
        Dropout rate before the last layer.
    augment : bool, default=False
        Put random flips and shifts in front (see :func:`cifar_augmentation`).
    bn_momentum : float, default=0.9
        Momentum of the batch norms' moving statistics (0.9 suits short trainings).

    Returns
    -------
    keras.Sequential
        The uncompiled model; layers are named ``augmentation`` (only with ``augment``),
        ``stage1_conv1``, ``stage1_bn1``, ``stage1_relu1``, ``stage1_pool``, ...,
        ``avg_pool``, ``dropout`` and ``logits``.

    Raises
    ------
    ValueError
        For an empty stage list, a stage without filters, a non-positive filter count, a
        dropout rate outside [0, 1), or an input that the poolings cannot halve evenly.

    Examples
    --------
    >>> model = cifar_cnn()
    >>> model.count_params()
    577514
    >>> model.get_layer("stage4_relu1").output.shape
    (None, 4, 4, 256)
    """
    if not stages or any(not stage for stage in stages):
        raise ValueError(f"stages must be a non-empty list of non-empty filter lists, got {stages}")
    if any(isinstance(f, bool) or not isinstance(f, int) or f <= 0 for s in stages for f in s):
        raise ValueError(f"every filter count in stages must be a positive int, got {stages}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    factor = 2 ** (len(stages) - 1)
    if input_shape[0] % factor or input_shape[1] % factor:
        raise ValueError(
            f"{len(stages) - 1} poolings need height and width divisible by {factor}, "
            f"got input_shape={input_shape}"
        )
    model = keras.Sequential(name="cifar_cnn_augmented" if augment else "cifar_cnn")
    model.add(keras.Input(shape=input_shape))
    model.add(layers.Rescaling(1 / 127.5, offset=-1, name="rescaling"))
    if augment:
        model.add(cifar_augmentation())
    for s, stage in enumerate(stages, start=1):
        for c, filters in enumerate(stage, start=1):
            model.add(
                layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"stage{s}_conv{c}")
            )
            model.add(layers.BatchNormalization(momentum=bn_momentum, name=f"stage{s}_bn{c}"))
            model.add(layers.Activation("relu", name=f"stage{s}_relu{c}"))
        if s < len(stages):
            model.add(layers.MaxPool2D(2, name=f"stage{s}_pool"))
    model.add(layers.GlobalAvgPool2D(name="avg_pool"))
    model.add(layers.Dropout(dropout, name="dropout"))
    model.add(layers.Dense(n_classes, name="logits"))
    return model
