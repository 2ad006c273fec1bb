"""Checks for the ResNet notebook's exercises: ResNet-34's shapes, shortcuts, residual units.

Exercise resnet.1 follows the feature-map shapes through ResNet-34, resnet.2 writes the
parameter-free zero-padding shortcut of He et al. (2015), resnet.3 deepens a network by one
residual unit without changing what it computes, and resnet.4 writes a bottleneck residual unit
as a subclassed Keras layer. Every oracle (``cnnkit.models.resnet34``, NumPy slicing, the
learner's model before deepening, the same bottleneck block built from stock Keras layers) is
computed when the check runs, and the verdicts do not depend on quick mode.
"""

from __future__ import annotations

import functools
import math
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnkit import models
from cnnkit.exercises.checking import (
    Mistake,
    NotAttempted,
    as_array,
    as_model,
    call_answer,
    compare_arrays,
    exercise,
    finite_array,
    model_copy,
    your_name,
)
from cnnkit.layers import ResidualUnit

import keras
import numpy as np

# Exercise resnet.1: the two input shapes whose stage outputs the learner works out.
SHAPE_INPUTS = {"shapes_224": (224, 224, 3), "shapes_odd": (99, 75, 3)}
_STAGES = ("the stem", "stage 2", "stage 3", "stage 4", "stage 5")

# Exercise resnet.2: (input shape, filters, strides) for the zero-padding shortcut.
PAD_CASES = (((2, 7, 7, 3), 6, 2), ((1, 6, 5, 4), 4, 1), ((3, 9, 4, 2), 8, 3))


def _finite(array: np.ndarray, name: str) -> np.ndarray:
    return finite_array(array, name)


# ---------------------------------------------------------------- resnet.1: stage shapes
@functools.cache
def _resnet_stage_shapes() -> dict[str, tuple[tuple[int, ...], ...]]:
    """Output shapes after the stem and each stage of ``cnnkit.models.resnet34``, for each of
    ``SHAPE_INPUTS`` (the oracle): one model of any image size, its layers' output shapes."""
    model = models.resnet34((None, None, 3))
    last = {"stem": "stem_pool"}
    for layer in model.layers:
        if layer.name.startswith("stage"):
            last[layer.name.split("_")[0]] = layer.name
    shapes = {}
    for key, input_shape in SHAPE_INPUTS.items():
        shape, after = (1, *input_shape), {}
        for layer in model.layers:
            shape = tuple(layer.compute_output_shape(shape))
            after[layer.name] = shape[1:]
        shapes[key] = tuple(after[name] for name in last.values())
    return shapes


def _stage_shapes_by_formula(
    shape: tuple[int, int, int], halve: Callable[[int], int], pool: bool = True, stage2=1
) -> list[tuple[int, int, int]]:
    """Stage shapes worked out with a given rounding, used for typical mistakes' values."""
    height, width = halve(shape[0]), halve(shape[1])  # the 7x7 stride-2 convolution
    if pool:
        height, width = halve(height), halve(width)
    shapes = [(height, width, 64)]
    for filters, strides in ((64, stage2), (128, 2), (256, 2), (512, 2)):
        if strides == 2:
            height, width = halve(height), halve(width)
        shapes.append((height, width, filters))
    return shapes


@exercise("resnet.1")
def check_1(shapes_224: Any, shapes_odd: Any) -> None:
    """Check the (height, width, channels) after ResNet-34's stem and each of its 4 stages.

    For inputs of 224x224x3 and of 99x75x3 (height 99, width 75); exact integers, compared
    with ``cnnkit.models.resnet34`` built on that input.

    Parameters
    ----------
    shapes_224, shapes_odd : sequence of 5 (height, width, channels)
        After the stem (with its max pooling), then after stages 2, 3, 4 and 5.

    Examples
    --------
    >>> check_1(..., ...)
    Exercise resnet.1: not attempted yet: replace `...` with your answer.
    """
    for key, answer in (("shapes_224", shapes_224), ("shapes_odd", shapes_odd)):
        shape = SHAPE_INPUTS[key]
        name = f"your shapes for a {shape[0]}x{shape[1]}x{shape[2]} input"
        got = _finite(as_array(answer, name), name)
        expected = np.array(_resnet_stage_shapes()[key], dtype=np.float64)
        if got.ndim != 2 or got.shape[1] != 3:
            extra = (
                " (leave out the batch dimension)" if got.ndim == 2 and got.shape[1] == 4 else ""
            )
            raise Mistake(
                f"{name}: expected 5 (height, width, channels) triples, an array of shape "
                f"(5, 3); got shape {got.shape}{extra}."
            )
        if len(got) != 5:
            raise Mistake(
                f"{name}: expected 5 shapes (after the stem, then after stages 2, 3, 4 and 5), "
                f"got {len(got)}."
            )
        mistakes = {
            "a 'same' convolution or pooling with stride 2 gives ceil(n / 2), not n // 2 "
            "(odd sizes round up)": _stage_shapes_by_formula(shape, lambda n: n // 2),
            "the stem ends with a 3x3 max pooling with stride 2 that halves the map again": (
                _stage_shapes_by_formula(shape, lambda n: -(-n // 2), pool=False)
            ),
            "stage 2 keeps 64 filters, so its first unit has stride 1; only stages 3, 4 and 5 "
            "start with stride 2": _stage_shapes_by_formula(shape, lambda n: -(-n // 2), stage2=2),
        }
        for hint, wrong in mistakes.items():
            if np.array_equal(got, np.array(wrong)) and not np.array_equal(got, expected):
                raise Mistake(f"{name} are not right: {hint}.")
        for stage, want, have in zip(_STAGES, expected, got, strict=True):
            if not np.array_equal(want, have):
                want_text = tuple(int(v) for v in want)
                have_text = tuple(float(v) if v % 1 else int(v) for v in have)
                hint = ""
                if want[2] != have[2]:
                    hint = " (each stage's filter count: 64, 64, 128, 256, 512)"
                raise Mistake(f"{name}: after {stage} expected {want_text}, got {have_text}{hint}.")


# ---------------------------------------------------------------- resnet.2: zero-padding shortcut
def _pad_shortcut(x: np.ndarray, filters: int, strides: int) -> np.ndarray:
    """The oracle: every ``strides``-th pixel, then zero channels appended up to ``filters``."""
    x = x[:, ::strides, ::strides, :]
    return np.concatenate([x, np.zeros((*x.shape[:3], filters - x.shape[-1]), x.dtype)], -1)


@exercise("resnet.2")
def check_2(zero_pad_shortcut: Callable[[np.ndarray, int, int], Any]) -> str:
    """Check a parameter-free shortcut: subsample by the stride, append zero channels.

    ``zero_pad_shortcut(x, filters, strides)`` takes a batch ``x`` of shape (batch, height,
    width, channels) and returns ``x[:, ::strides, ::strides, :]`` with ``filters - channels``
    zero channels appended after the input's own (He et al. 2015's shortcut "option A").
    Checked on three inputs (strides 1, 2 and 3; odd sizes) within 1e-6, each on a copy.

    Parameters
    ----------
    zero_pad_shortcut : callable
        ``zero_pad_shortcut(x, filters, strides) -> array`` (NumPy array, list or tensor).

    Examples
    --------
    >>> check_2(...)
    Exercise resnet.2: not attempted yet: replace `...` with your answer.
    """
    name = your_name(zero_pad_shortcut)
    for seed, (shape, filters, strides) in enumerate(PAD_CASES):
        x = np.random.default_rng(seed).normal(size=shape).astype("float32")
        given = x.copy()
        got = call_answer(zero_pad_shortcut, given, filters, strides, name=name)
        where = f"{name}(x of shape {shape}, filters={filters}, strides={strides})"
        got = _finite(as_array(got, f"the output of {where}"), f"the output of {where}")
        if not np.array_equal(given, x):
            raise Mistake(f"{where} changed its input x in place: leave x as it is.")
        expected = _pad_shortcut(x, filters, strides)
        if got.shape != expected.shape:
            hint = ""
            if got.shape[-1] != filters:
                hint = f": the output needs {filters} channels, the input's {shape[-1]} first"
            elif got.shape[1:3] != expected.shape[1:3]:
                hint = (
                    ": take every strides-th row and column starting from the first, "
                    "x[:, ::strides, ::strides, :], which gives ceil(n / strides) of them"
                )
            raise Mistake(f"{where} returned shape {got.shape}, expected {expected.shape}{hint}.")
        extra = filters - shape[-1]
        compare_arrays(
            got,
            expected,
            name=f"the output of {where}",
            rtol=0,
            atol=1e-6,
            mistakes={
                "the zero channels go after the input's channels (channel c of the input "
                "stays channel c)": np.roll(expected, extra, axis=-1),
            },
        )
    return "subsampled by the stride, zero channels appended: no parameters at all."


# ---------------------------------------------------------------- resnet.3: deepen a network
def _residual_units(model: keras.Model) -> list[keras.layers.Layer]:
    """Every ResidualUnit in ``model``, looking inside nested models."""
    units = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            units += _residual_units(layer)
        elif isinstance(layer, ResidualUnit):
            units.append(layer)
    return units


def _small_residual_model() -> keras.Model:
    """A small residual network with non-trivial weights and moving statistics."""
    keras.utils.set_random_seed(11)
    model = keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            keras.layers.Conv2D(8, 3, padding="same", use_bias=False, name="stem_conv"),
            keras.layers.BatchNormalization(name="stem_bn"),
            keras.layers.Activation("relu", name="stem_relu"),
            ResidualUnit(8, name="unit1"),
            ResidualUnit(16, strides=2, name="unit2"),
            keras.layers.GlobalAvgPool2D(name="avg_pool"),
            keras.layers.Dense(5, activation="softmax", name="predictions"),
        ],
        name="small_residual_net",
    )
    rng = np.random.default_rng(12)
    for weight in model.weights:
        if "moving_mean" in weight.path or weight.path.endswith("beta"):
            weight.assign(rng.normal(0.0, 0.3, weight.shape).astype("float32"))
        elif "moving_variance" in weight.path or weight.path.endswith("gamma"):
            weight.assign(rng.uniform(0.5, 1.5, weight.shape).astype("float32"))
    return model


def _deepening_hint(given: keras.Model, deeper: keras.Model) -> str:
    """The likeliest reason why the deeper model computes something else than `given`."""
    known = {id(unit) for unit in _residual_units(given)}
    new = [unit for unit in _residual_units(deeper) if id(unit) not in known]
    keep = (
        "keep every other layer with its weights (reuse the model's layers, or copy their "
        "weights with set_weights)"
    )
    if len(new) != 1:
        return keep
    unit = new[0]
    if unit.skip_conv is not None:
        return (
            "the new unit has a projection shortcut: give it strides=1 and as many filters as "
            "its input has channels, so that its shortcut is the identity"
        )
    gamma = keras.ops.convert_to_numpy(unit.bn2.gamma)
    beta = keras.ops.convert_to_numpy(unit.bn2.beta)
    if np.any(gamma != 0) or np.any(beta != 0):
        return (
            "the new unit's main path is not zero: once it is built, set its last batch norm's "
            "gamma and beta (unit.bn2.gamma, unit.bn2.beta) to zero"
        )
    return (
        "put the new unit after a layer whose output is non-negative (a ReLU or another "
        f"residual unit), so that ReLU(0 + x) = x; and {keep}"
    )


@exercise("resnet.3")
def check_3(deepen: Callable[[keras.Model], keras.Model]) -> str:
    """Check a function that adds one residual unit to a network without changing its outputs.

    ``deepen(model)`` receives a copy of a small residual network (stem, two ResidualUnits,
    global average pooling, softmax; non-trivial weights and moving statistics) and must
    return a ``keras.Model`` with one more ``ResidualUnit`` whose predictions in inference
    mode equal the original's within 1e-5 on random images.

    Parameters
    ----------
    deepen : callable
        ``deepen(model) -> keras.Model``.

    Examples
    --------
    >>> check_3(...)
    Exercise resnet.3: not attempted yet: replace `...` with your answer.
    """
    original = _small_residual_model()
    given = model_copy(original)
    name = your_name(deepen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        deeper = as_model(call_answer(deepen, given, name=name), name=f"what {name} returned")
        n_before, n_after = len(_residual_units(original)), len(_residual_units(deeper))
        if n_after != n_before + 1:
            raise Mistake(
                f"the model {name} returned has {n_after} ResidualUnit layers; the original "
                f"has {n_before}, so expected {n_before + 1}."
            )
        x = np.random.default_rng(13).normal(size=(6, 12, 12, 3)).astype("float32")
        expected = keras.ops.convert_to_numpy(original(x, training=False))
        try:
            got = keras.ops.convert_to_numpy(deeper(x, training=False))
        except Exception as error:
            raise Mistake(
                f"calling the deeper model on images of shape {x.shape} raised "
                f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
            ) from error
        got = _finite(as_array(got, "the deeper model's output"), "the deeper model's output")
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-4, atol=1e-5):
            difference = (
                f"different shapes {got.shape} and {expected.shape}"
                if got.shape != expected.shape
                else f"up to {np.abs(got - expected).max():.3g} apart"
            )
            raise Mistake(
                f"the deeper model predicts differently from the original ({difference}): "
                f"{_deepening_hint(given, deeper)}."
            )
    return f"{n_before + 1} residual units, the same predictions: deeper contains shallower."


# ---------------------------------------------------------------- resnet.4: bottleneck unit
_SUBLAYERS = {
    "conv1": keras.layers.Conv2D,
    "bn1": keras.layers.BatchNormalization,
    "conv2": keras.layers.Conv2D,
    "bn2": keras.layers.BatchNormalization,
    "conv3": keras.layers.Conv2D,
    "bn3": keras.layers.BatchNormalization,
}


def _images(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _new_unit(cls: type, filters: int, strides: int, **kwargs) -> keras.layers.Layer:
    unit = call_answer(
        lambda: cls(filters, strides=strides, **kwargs),
        name=f"BottleneckUnit({filters}, strides={strides})",
    )
    if type(unit).build is keras.layers.Layer.build:  # no build(): sublayers come from __init__
        _raise_if_unwritten(unit)
    if all(hasattr(unit, name) for name in _SUBLAYERS):
        _check_sublayers(unit)
    return unit


def _raise_if_unwritten(unit: keras.layers.Layer) -> None:
    """Raise :class:`NotAttempted` if `unit` has none of the exercise's sublayers."""
    if not any(hasattr(unit, name) for name in _SUBLAYERS):
        raise NotAttempted(
            "BottleneckUnit has none of its sublayers (conv1, bn1, conv2, bn2, conv3, bn3) yet: "
            "write its __init__, build, call and get_config."
        )


def _check_sublayers(unit: keras.layers.Layer) -> None:
    """Raise unless `unit` has the sublayers the exercise names, of the right kinds (made in
    ``__init__`` or in ``build``: :func:`_call` checks again once the unit is built)."""
    missing = [name for name in _SUBLAYERS if not hasattr(unit, name)]
    if missing:
        raise Mistake(
            f"BottleneckUnit has no attribute {', '.join(missing)}: name the sublayers conv1, "
            "bn1, conv2, bn2, conv3, bn3 (and skip_conv, skip_bn) as the exercise says."
        )
    for name, kind in _SUBLAYERS.items():
        if not isinstance(getattr(unit, name), kind):
            raise Mistake(
                f"BottleneckUnit.{name} should be a keras.layers.{kind.__name__}, got "
                f"{type(getattr(unit, name)).__name__}."
            )


def _call(unit, x, **kwargs) -> np.ndarray:
    try:
        y = unit(x, **kwargs)
    except (Mistake, NotAttempted):
        raise
    except Exception as error:
        _raise_if_unwritten(unit)  # a skeleton whose build() is still `...`
        message = _first_line(error)
        hint = ""
        if "broadcast" in message or "Incompatible shapes" in message:
            hint = (
                " The main path and the shortcut have different shapes: when strides > 1 or "
                "the input does not have 4 * filters channels, the shortcut needs the 1x1 "
                "projection (skip_conv, skip_bn)."
            )
        raise Mistake(
            f"calling your BottleneckUnit on an input of shape {tuple(x.shape)} raised "
            f"{type(error).__name__}: {message}{hint}"
        ) from error
    _raise_if_unwritten(unit)
    if y is None:
        raise Mistake("your BottleneckUnit's call returns None: did you forget `return`?")
    _check_sublayers(unit)
    return keras.ops.convert_to_numpy(y)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    if "Exception encountered:" in text:  # Keras' deserialisation errors: the cause is last
        text = text.split("Exception encountered:")[-1].strip()
    return text.splitlines()[0] if text else ""


def _needs_projection(filters: int, strides: int, channels: int) -> bool:
    return strides > 1 or channels != 4 * filters


def _reference(
    unit,
    channels: int,
    filters: int,
    strides: int,
    activation: str = "relu",
    variant: str | None = None,
) -> keras.Model:
    """The bottleneck block from stock Keras layers with `unit`'s weights, on any height and
    width, with the activation the check asked for. `variant` builds a typical mistake
    instead, for the hints."""
    pairs = []

    def conv(source, n_filters, kernel, stride):
        layer = keras.layers.Conv2D(
            n_filters, kernel, strides=stride, padding="same", use_bias=False
        )
        pairs.append((layer, source))
        return layer

    def bn(source):
        layer = keras.layers.BatchNormalization(momentum=source.momentum, epsilon=source.epsilon)
        pairs.append((layer, source))
        return layer

    def act(x):
        return keras.layers.Activation(activation)(x)

    first, second = (strides, 1) if variant == "stride_first" else (1, strides)
    inputs = keras.Input((None, None, channels))
    x = act(bn(unit.bn1)(conv(unit.conv1, filters, 1, first)(inputs)))
    x = act(bn(unit.bn2)(conv(unit.conv2, filters, 3, second)(x)))
    x = bn(unit.bn3)(conv(unit.conv3, 4 * filters, 1, 1)(x))
    if variant == "activation_before_add":
        x = act(x)
    skip = inputs
    if _needs_projection(filters, strides, channels):
        skip = bn(unit.skip_bn)(conv(unit.skip_conv, 4 * filters, 1, strides)(inputs))
    x = keras.layers.Add()([x, skip])
    if variant != "no_final_activation":
        x = act(x)
    model = keras.Model(inputs, x)
    for layer, source in pairs:
        source_weights = source.get_weights()
        shapes = [tuple(w.shape) for w in source_weights]
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if shapes != expected:
            attribute = next(
                name
                for name in (*_SUBLAYERS, "skip_conv", "skip_bn")
                if getattr(unit, name, None) is source
            )
            raise Mistake(
                f"your unit's {attribute} has weights of shapes {shapes}, the bottleneck's "
                f"{expected}: check its kernel size and filter count, and use_bias=False."
            )
        layer.set_weights(source_weights)
    return model


_REFERENCE_HINTS = {
    "stride_first": "put the stride on the 3x3 convolution (conv2), not on the first 1x1",
    "no_final_activation": "apply the activation after the addition, output = "
    "activation(main + shortcut)",
    "activation_before_add": "the main path ends with bn3, without an activation: the "
    "activation comes after the addition",
    "relu_always": "use the activation the unit was given (its `activation` argument, through "
    "keras.activations.get), not always ReLU",
}


def _randomise_moving_statistics(unit, seed: int) -> None:
    """Non-trivial moving statistics, so that inference mode is really compared."""
    for index, name in enumerate(("bn1", "bn2", "bn3", "skip_bn"), start=1):
        layer = getattr(unit, name, None)
        if isinstance(layer, keras.layers.BatchNormalization) and layer.built:
            size = layer.moving_mean.shape
            layer.moving_mean.assign(_images(size, seed + index))
            layer.moving_variance.assign(np.exp(_images(size, seed + 10 * index)))


def _compare_with_reference(
    unit, x, filters: int, strides: int, where: str, activation: str = "relu"
) -> None:
    """Both modes of `unit` on `x` against the stock-Keras block with its weights."""
    channels = x.shape[-1]
    reference = _reference(unit, channels, filters, strides, activation)
    if unit.count_params() != reference.count_params():
        raise Mistake(
            f"{where}: your unit has {unit.count_params():,} parameters, the bottleneck from "
            f"stock Keras layers {reference.count_params():,}: the convolutions need no bias "
            "(use_bias=False)."
        )
    for training in (False, True):
        got = _call(unit, x, training=training)
        expected = keras.ops.convert_to_numpy(reference(x, training=training))
        if got.shape == expected.shape and np.allclose(got, expected, rtol=1e-4, atol=1e-4):
            continue
        for variant, variant_hint in _REFERENCE_HINTS.items():
            if (variant == "stride_first" and strides == 1) or (
                variant == "relu_always" and activation == "relu"
            ):
                continue
            wrong_activation = "relu" if variant == "relu_always" else activation
            model = _reference(unit, channels, filters, strides, wrong_activation, variant)
            wrong = keras.ops.convert_to_numpy(model(x, training=training))
            if wrong.shape == got.shape and np.allclose(got, wrong, rtol=1e-4, atol=1e-4):
                raise Mistake(f"{where}, training={training}: {variant_hint}.")
        compare_arrays(
            got,
            expected,
            name=f"{where}, training={training}, your output vs the stock-Keras block's",
            rtol=1e-4,
            atol=1e-4,
        )


def _check_shapes_and_reference(cls) -> None:
    cases = [((2, 8, 8, 16), 4, 1, "relu"), ((2, 8, 8, 8), 4, 1, "relu")]
    cases += [((2, 7, 7, 16), 4, 2, "elu"), ((1, 5, 6, 12), 3, 2, "relu")]
    for seed, (in_shape, filters, strides, activation) in enumerate(cases):
        unit = _new_unit(cls, filters, strides, activation=activation)
        x = _images(in_shape, seed=seed)
        y = _call(unit, x)
        height, width = (math.ceil(n / strides) for n in in_shape[1:3])
        expected = (in_shape[0], height, width, 4 * filters)
        where = (
            f"BottleneckUnit({filters}, strides={strides}, activation={activation!r}) on "
            f"input {in_shape}"
        )
        if y.shape != expected:
            hint = ""
            if y.shape[-1] != 4 * filters:
                hint = ": the last 1x1 convolution expands to 4 * filters channels"
            elif y.shape[1:3] != expected[1:3]:
                hint = ": apply the stride once on the main path (conv2) and on the projection, "
                hint += 'with padding="same"'
            raise Mistake(f"{where}: expected output shape {expected}, got {y.shape}{hint}.")
        projection = _needs_projection(filters, strides, in_shape[-1])
        skip_conv = getattr(unit, "skip_conv", None)
        if projection and not isinstance(skip_conv, keras.layers.Conv2D):
            raise Mistake(
                f"{where}: the shortcut needs a 1x1 projection (unit.skip_conv, a Conv2D, then "
                "unit.skip_bn) when strides > 1 or the input channels differ from 4 * filters."
            )
        if projection and not isinstance(
            getattr(unit, "skip_bn", None), keras.layers.BatchNormalization
        ):
            raise Mistake(f"{where}: the projection needs its batch norm, unit.skip_bn.")
        if not projection and skip_conv is not None:
            raise Mistake(
                f"{where}: input and output have the same shape, so the shortcut is the identity "
                "and unit.skip_conv should be None."
            )
        _randomise_moving_statistics(unit, seed=10 + seed)
        _compare_with_reference(unit, x, filters, strides, where, activation)


def _check_identity(cls) -> None:
    x = np.abs(_images((3, 6, 6, 16), seed=4))
    unit = _new_unit(cls, 4, 1)
    _call(unit, x)
    unit.bn3.gamma.assign(np.zeros(16, "float32"))
    unit.bn3.beta.assign(np.zeros(16, "float32"))
    for training in (False, True):
        y = _call(unit, x, training=training)
        if not np.allclose(y, x, rtol=0, atol=1e-5):
            raise Mistake(
                "identity test: BottleneckUnit(4) on a non-negative 16-channel input, with "
                f"bn3's gamma and beta set to zero, should return its input (training={training}); "
                f"it differs by up to {np.abs(y - x).max():.3g}. Is the shortcut the input itself, "
                "and the activation applied only after the addition, to main + shortcut?"
            )


def _check_other_sizes(cls) -> None:
    unit = _new_unit(cls, 4, 1)
    _call(unit, _images((2, 8, 8, 16), seed=5))  # build on 8x8
    _randomise_moving_statistics(unit, seed=6)
    for shape in [(3, 5, 5, 16), (1, 1, 1, 16), (2, 3, 9, 16)]:
        where = f"BottleneckUnit(4) built on (2, 8, 8, 16), then called on {shape}"
        _compare_with_reference(unit, _images(shape, seed=7), 4, 1, where)
    unit = _new_unit(cls, 4, 2)
    try:
        inputs = keras.Input((None, None, 8))
        model = keras.Model(inputs, unit(inputs))
    except Exception as error:
        raise Mistake(
            "your unit fails on a symbolic input of unknown height and width, "
            f"keras.Input((None, None, 8)): {type(error).__name__}: {error}"
        ) from error
    if tuple(model.output.shape) != (None, None, None, 16):
        raise Mistake(
            "on keras.Input((None, None, 8)) BottleneckUnit(4, strides=2) should output shape "
            f"(None, None, None, 16), got {tuple(model.output.shape)}."
        )
    _randomise_moving_statistics(unit, seed=8)
    for shape in [(2, 9, 9, 8), (1, 2, 3, 8)]:
        x = _images(shape, seed=9)
        where = f"BottleneckUnit(4, strides=2) in a model on keras.Input((None, None, 8)), {shape}"
        _compare_with_reference(unit, x, 4, 2, where)


def _check_save_load(cls) -> None:
    unit = _new_unit(cls, 4, 2, activation="elu", name="bottleneck")
    model = keras.Sequential([keras.Input((None, None, 8)), unit])
    _randomise_moving_statistics(unit, seed=8)
    x = _images((2, 7, 7, 8), seed=9)
    before = keras.ops.convert_to_numpy(model(x, training=False))
    try:
        config = unit.get_config()
        if not isinstance(config, dict):
            raise TypeError(f"get_config returned {type(config).__name__}, not a dict")
        clone_shape = tuple(cls.from_config(config)(x).shape)
    except Exception as error:
        raise Mistake(
            f"rebuilding your unit from its config failed ({type(error).__name__}: "
            f"{_first_line(error)}): get_config should return super().get_config() updated with "
            "filters, strides and activation."
        ) from error
    if clone_shape != before.shape:
        raise Mistake(
            f"the unit rebuilt from its get_config() outputs shape {clone_shape} instead of "
            f"{before.shape}: get_config should store filters, strides and activation."
        )
    registered = keras.saving.get_registered_name(cls)
    if keras.saving.get_registered_object(registered) is not cls:
        raise Mistake(
            "your class is not registered, so a saved model could not be loaded back: put "
            '@keras.saving.register_keras_serializable(package="exercises") above its definition.'
        )
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(folder) / "bottleneck.keras"
        try:
            model.save(path)
            loaded = keras.models.load_model(path)
        except Exception as error:
            raise Mistake(
                f"saving and loading a model with your unit failed ({type(error).__name__}: "
                f"{_first_line(error)}). get_config should return super().get_config() updated "
                "with filters, strides and activation."
            ) from error
    layer = loaded.layers[-1]
    if not isinstance(layer, cls):
        raise Mistake(
            f"the loaded model holds a {type(layer).__name__}, not your class: register it with "
            '@keras.saving.register_keras_serializable(package="exercises").'
        )
    after = keras.ops.convert_to_numpy(loaded(x, training=False))
    if after.shape != before.shape:
        raise Mistake(
            f"the reloaded model outputs shape {after.shape} instead of {before.shape}: does "
            "get_config store filters, strides and activation, so that from_config rebuilds "
            "the same unit?"
        )
    if not np.allclose(after, before, rtol=0, atol=1e-6):
        raise Mistake(
            "the reloaded BottleneckUnit(4, strides=2, activation='elu') predicts differently "
            f"(by up to {np.abs(after - before).max():.3g}): does get_config store the "
            "activation (by name, keras.activations.serialize)? And does build create and "
            "build every sublayer (conv1 ... bn3, and skip_conv, skip_bn when needed), so that "
            "the saved weights have somewhere to go?"
        )


@exercise("resnet.4")
def check_4(bottleneck_unit: type) -> str:
    """Check a bottleneck residual unit written as a subclassed, registered Keras layer.

    ``BottleneckUnit(filters, strides=1, activation="relu")``: conv1 (1x1, filters) -> bn1 ->
    activation -> conv2 (3x3, filters, stride, "same") -> bn2 -> activation -> conv3 (1x1,
    4 * filters) -> bn3, plus the input (identity) or, when strides > 1 or the input does not
    have 4 * filters channels, skip_conv (1x1, 4 * filters, stride) -> skip_bn; output
    activation(main + shortcut). Convolutions without bias. Checked, on fresh units: output
    shapes (strides 1 and 2, odd and non-square sizes); when the shortcut is a projection;
    the identity test (bn3's gamma and beta zero: a non-negative input comes back unchanged,
    both modes); outputs in both modes, with ``activation`` "relu" and "elu", against the same
    block built from stock Keras layers with the unit's weights (within 1e-4), also on sizes
    other than the build size and on an input of unknown height and width; and a ``.keras``
    save/load round trip of an "elu" unit (in a temporary folder) predicting the same within
    1e-6.

    Parameters
    ----------
    bottleneck_unit : type
        The class (not an instance).

    Examples
    --------
    >>> check_4(...)
    Exercise resnet.4: not attempted yet: replace `...` with your answer.
    """
    if isinstance(bottleneck_unit, keras.layers.Layer):
        raise Mistake("pass the class itself, BottleneckUnit, not an instance of it.")
    if not (isinstance(bottleneck_unit, type) and issubclass(bottleneck_unit, keras.layers.Layer)):
        raise Mistake(
            "BottleneckUnit should be a class that subclasses keras.layers.Layer, got "
            f"{type(bottleneck_unit).__name__}."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about unbuilt sublayers: hints say it
        _check_shapes_and_reference(bottleneck_unit)
        _check_identity(bottleneck_unit)
        _check_other_sizes(bottleneck_unit)
    _check_save_load(bottleneck_unit)
    return (
        "right shapes and shortcuts, the identity test, the stock-Keras reference in both "
        "modes on any size, and a .keras round trip."
    )
