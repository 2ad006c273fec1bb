"""Checks for the exercises of notebook 08 (transfer learning and fine-tuning).

1. the trainable and non-trainable parameters of a classifier with its top convolution, then its
   top two, unfrozen (the notebook's :func:`cnnkit.transfer.small_base` and a 5-class head);
2. a function that unfreezes the convolutions of the top blocks and keeps the rest frozen;
3. a classifier whose base keeps batch normalisation in inference mode while it is fine-tuned;
4. a fine-tuned classifier of the digits 5-9, trained on 5 labelled digits per class, that
   beats training from scratch on the validation digits 5-9.

The checks build their own copies of the base and read the bundled MNIST sample, as the
notebook does, so their verdicts do not depend on quick mode or on what the notebook trained.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnkit.data import load_mnist_csv
from cnnkit.exercises.checking import (
    Mistake,
    answer_entries,
    as_array,
    as_model,
    call_answer,
    exercise,
)
from cnnkit.exercises.trained import accuracy, all_layers
from cnnkit.transfer import small_base

import keras
import numpy as np

N_CLASSES = 5
"""The target task: the digits 5-9, as classes 0-4 (class ``i`` is the digit ``5 + i``)."""
BLOCKS = 3
"""The base's blocks, each a convolution ``conv1``... and a batch normalisation ``bn1``..."""
ACCURACY_FLOOR = 0.80
"""Exercise 4: the lowest accuracy accepted on the sample's validation digits 5-9, in every mode."""


def _counts(model: keras.Model) -> tuple[int, int]:
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable, non_trainable


def _classifier(base: keras.Model) -> keras.Model:
    inputs = keras.Input(shape=(28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(N_CLASSES)(base(inputs)))


def _whole(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def _compare_count(
    got: Any, expected: int, name: str, mistakes: dict[str, int], hints: tuple[str, str]
) -> None:
    """Raise :class:`Mistake` unless `got` is `expected`, without giving the expected count away.

    `mistakes` maps a hint to the count a typical mistake gives; `hints` are the general hints
    for a count that is too low and one that is too high.
    """
    array = as_array(got, name)
    if array.size != 1:
        raise Mistake(f"{name} should be one number, got {array.size} values.")
    value = float(array.reshape(()))
    if not np.isfinite(value):
        raise Mistake(f"{name} is {value}: write a whole number of parameters.")
    if value == expected:
        return
    direction = "too many" if value > expected else "too few"
    for hint, wrong in mistakes.items():
        if value == wrong:
            raise Mistake(f"{name}: {_whole(value)} is {direction}: {hint}.")
    raise Mistake(f"{name}: {_whole(value)} is {direction}: {hints[value > expected]}.")


_TOO_FEW_TRAINABLE = (
    "count the new Dense head (weights and biases) and every unfrozen convolution's kernel"
)
_TOO_MANY_TRAINABLE = (
    "a frozen layer's weights do not train (batch normalisation stays frozen), and the moving "
    "means and variances never do"
)
_TOO_FEW_FROZEN = (
    "every weight of a frozen layer counts, and so do all the moving means and variances "
    "(model.non_trainable_weights lists them)"
)
_TOO_MANY_FROZEN = "the head and the unfrozen convolutions train: leave them out of this count"


@exercise("transfer_learning.1")
def check_1(top_block: Any, top_two: Any) -> None:
    """Check the (trainable, non-trainable) parameter counts of a partly unfrozen classifier.

    The classifier is ``small_base()`` followed by ``Dense(5)``. `top_block`: the counts with only
    the last convolution ``conv3`` trainable in the base; `top_two`: with ``conv2`` and ``conv3``
    trainable. Every other layer of the base is frozen, batch normalisation included; the head
    trains. Exact. A wrong count gets a hint (too many or too few, and the likely cause), not
    the expected number.

    Parameters
    ----------
    top_block : pair of int
        (trainable, non-trainable) with only ``conv3`` trainable in the base.
    top_two : pair of int
        (trainable, non-trainable) with ``conv2`` and ``conv3`` trainable in the base.

    Examples
    --------
    >>> check_1(..., ...)
    Exercise transfer_learning.1: not attempted yet: replace `...` with your answer.
    """
    base = small_base()
    model = _classifier(base)
    expected = {}
    for part, trainable in [("top_block", {"conv3"}), ("top_two", {"conv2", "conv3"})]:
        for layer in base.layers:
            layer.trainable = layer.name in trainable
        expected[part] = _counts(model)
    head = 128 * N_CLASSES + N_CLASSES
    half = {f"bn{b}": 2 * base.get_layer(f"bn{b}").gamma.shape[0] for b in range(1, BLOCKS + 1)}
    moving = sum(half.values())
    biases = {"conv2": 64, "conv3": 128}
    for part, answer, blocks in [("top_block", top_block, ["3"]), ("top_two", top_two, ["2", "3"])]:
        trainable, non_trainable = answer_entries(
            answer, 2, f"`{part}`", "trainable, non-trainable"
        )
        shown, hidden = expected[part]
        norms = " and ".join(f"bn{b}" for b in blocks)
        convs = " and ".join(f"conv{b}" for b in blocks)
        scale_shift = sum(half[f"bn{b}"] for b in blocks)
        conv_biases = sum(biases[f"conv{b}"] for b in blocks)
        _compare_count(
            trainable,
            shown,
            f"`{part}`: the trainable parameters",
            {
                f"{norms} stay frozen (section 6), so their scale (gamma) and shift (beta) do "
                "not train": shown + scale_shift,
                f"{norms} stay frozen, and moving means and variances are never trainable "
                "anyway": shown + 2 * scale_shift,
                "the new Dense head trains: its weights and biases count as trainable": shown
                - head,
                f"{convs} have no bias (use_bias=False)": shown + conv_biases,
                "do not forget the head's 5 biases": shown - N_CLASSES,
            },
            (_TOO_FEW_TRAINABLE, _TOO_MANY_TRAINABLE),
        )
        _compare_count(
            non_trainable,
            hidden,
            f"`{part}`: the non-trainable parameters",
            {
                f"{norms} stay frozen: all 4 numbers per channel are non-trainable": hidden
                - scale_shift,
                "that leaves out the batch-normalisation moving means and variances, which are "
                "non-trainable weights too": hidden - moving,
                "the base's convolutions have no bias (use_bias=False)": hidden
                + 32
                + 64
                + 128
                - conv_biases,
            },
            (_TOO_FEW_FROZEN, _TOO_MANY_FROZEN),
        )


def _trainable_names(model: keras.Model) -> set[str]:
    """``"conv3/kernel"``-style names of the weights that `model` trains."""
    names = {
        id(weight): f"{layer.name}/{weight.name}"
        for layer in all_layers(model)
        for weight in layer.weights
    }
    return {names.get(id(weight), weight.name) for weight in model.trainable_weights}


def _block_names(blocks: range, batch_norm: bool = False) -> set[str]:
    names = set()
    for block in blocks:
        names.add(f"conv{block}/kernel")
        if batch_norm:
            names |= {f"bn{block}/gamma", f"bn{block}/beta"}
    return names


@exercise("transfer_learning.2")
def check_2(unfreeze_top: Callable[..., Any]) -> None:
    """Check a function that makes only the top `n_blocks` convolutions of the base trainable.

    ``unfreeze_top(base, n_blocks)`` takes ``small_base()`` (frozen or not), makes the
    convolutions of the last `n_blocks` blocks trainable (``conv3`` for one block), keeps every
    other layer frozen, batch normalisation included, and returns the base. Tried with
    ``n_blocks`` 0 to 3 on fresh bases, some frozen beforehand.

    Parameters
    ----------
    unfreeze_top : callable
        The learner's function.

    Examples
    --------
    >>> check_2(...)
    Exercise transfer_learning.2: not attempted yet: replace `...` with your answer.
    """
    for n_blocks, frozen_before in [(1, True), (2, False), (0, False), (3, True), (1, False)]:
        base = small_base()
        base.trainable = not frozen_before
        got = call_answer(unfreeze_top, base, n_blocks, name="your unfreeze_top")
        if not isinstance(got, keras.Model):
            raise Mistake(
                f"unfreeze_top(base, {n_blocks}) returned {type(got).__name__}: return the base."
            )
        names = _trainable_names(got)
        expected = _block_names(range(BLOCKS - n_blocks + 1, BLOCKS + 1))
        if names == expected:
            continue
        state = "a frozen" if frozen_before else "a trainable"
        call = f"unfreeze_top({state} base, {n_blocks})"
        if n_blocks and not names:
            raise Mistake(
                f"after {call} nothing is trainable: while base.trainable is False, Keras hides "
                "every weight of its layers, whatever their own flags say. Set "
                "base.trainable = True first, then freeze the layers you keep."
            )
        if names == _block_names(range(1, n_blocks + 1)):
            raise Mistake(
                f"after {call} the first {n_blocks} block(s) are trainable: unfreeze the top "
                "ones (the last layers, nearest the head), whose features are the most "
                "specific to the source task."
            )
        all_batch_norm = _block_names(range(1, BLOCKS + 1), True) - _block_names(
            range(1, BLOCKS + 1)
        )
        if n_blocks and names == expected | all_batch_norm:
            raise Mistake(
                f"after {call} batch normalisation layers are trainable too: keep every "
                "BatchNormalization layer frozen. In Keras 3 an unfrozen one runs in training "
                "mode inside fit and moves its pretrained statistics (section 6)."
            )
        if n_blocks and names == _block_names(range(BLOCKS - n_blocks + 1, BLOCKS + 1), True):
            raise Mistake(
                f"after {call} the batch normalisations of the unfrozen blocks train too: keep "
                "every BatchNormalization layer frozen (section 6); unfreeze the convolutions."
            )
        if n_blocks < BLOCKS and names == _block_names(range(BLOCKS - n_blocks, BLOCKS + 1)):
            raise Mistake(f"after {call} {n_blocks + 1} blocks are trainable: off by one.")
        if names >= _block_names(range(1, BLOCKS + 1)) and n_blocks < BLOCKS:
            raise Mistake(
                f"after {call} the whole base is trainable: freeze every layer outside the "
                f"last {n_blocks} block(s) (layer.trainable = False)."
            )
        extra = sorted(names - expected)
        missing = sorted(expected - names)
        raise Mistake(
            f"after {call} the trainable weights are not those of the last {n_blocks} "
            f"block(s): trainable but should not be {extra}, frozen but should train {missing}."
        )


@exercise("transfer_learning.3")
def check_3(build_classifier: Callable[..., Any]) -> str:
    """Check a classifier that fine-tunes a base without moving its batch-norm statistics.

    ``build_classifier(base, n_classes)`` returns a model that takes digits (28, 28, 1) with
    their 0..255 values, passes them through `base` (the given model itself, left trainable:
    fine-tuning trains it), and returns `n_classes` scores. One training step on digits whose
    statistics differ from the base's must leave every moving mean and variance of the base's
    batch normalisation unchanged, while the base's convolutions train.

    Parameters
    ----------
    build_classifier : callable
        The learner's function.

    Returns
    -------
    str
        How the base's statistics were kept.

    Examples
    --------
    >>> check_3(...)
    Exercise transfer_learning.3: not attempted yet: replace `...` with your answer.
    """
    base = _pretend_pretrained_base()
    model = as_model(call_answer(build_classifier, base, N_CLASSES, name="your build_classifier"))
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError) as error:
        raise Mistake("your model has no input shape yet: start it with keras.Input.") from error
    if len(inputs) != 1 or tuple(inputs[0].shape[1:]) != (28, 28, 1):
        raise Mistake("your model should take one input of shape (28, 28, 1): keras.Input(...).")
    if len(outputs) != 1 or tuple(outputs[0].shape[1:]) != (N_CLASSES,):
        raise Mistake(f"your model should return {N_CLASSES} scores per image (n_classes).")
    if not base.trainable:
        raise Mistake(
            "build_classifier set base.trainable = False: that avoids the problem during feature "
            "extraction, but fine-tuning must train the base; keep it trainable and freeze only "
            "its batch normalisation layers."
        )
    own = {id(weight) for weight in model.trainable_weights}
    kernel = base.get_layer("conv3").kernel
    if id(kernel) not in own:
        if not any(layer is base for layer in all_layers(model)):
            raise Mistake(
                "your model does not use the base it was given (a copy, or a new one?): call "
                "`base` itself on the inputs."
            )
        raise Mistake("the base's convolutions do not train in your model: keep them trainable.")
    before = [keras.ops.convert_to_numpy(w) for w in _moving_statistics(base)]
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(32, 28, 28, 1)).astype(np.uint8)
    labels = rng.integers(0, N_CLASSES, size=32)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    try:
        model.fit(images, labels, batch_size=32, epochs=1, verbose=0)
    except Exception as error:
        raise Mistake(f"training your model failed: {type(error).__name__}: {error}") from error
    after = [keras.ops.convert_to_numpy(w) for w in _moving_statistics(base)]
    if not all(np.all(np.isfinite(a)) for a in after):
        raise Mistake("one training step made the base's moving statistics NaN or infinite.")
    moved = [
        weight.path
        for weight, b, a in zip(_moving_statistics(base), before, after, strict=True)
        if not np.allclose(a, b)
    ]
    if moved:
        raise Mistake(
            f"one training step changed {len(moved)} moving statistics of the base (e.g. "
            f"{moved[0]}): its batch normalisation ran in training mode, normalising with the "
            "statistics of each new batch and overwriting the pretrained ones. A "
            "training=False written when the model was built does not help in Keras 3 (fit's "
            "training=True replaces it): freeze the BatchNormalization layers themselves "
            "(layer.trainable = False), which keeps them in inference mode (section 6)."
        )
    if np.array_equal(keras.ops.convert_to_numpy(kernel), _PRETEND_KERNEL):
        raise Mistake(
            "the base's convolutions did not change in one training step: keep them trainable."
        )
    return "the base's moving statistics stayed put while its convolutions trained."


_PRETEND_KERNEL: np.ndarray | None = None


def _moving_statistics(base: keras.Model) -> list[Any]:
    return [
        weight
        for layer in base.layers
        if isinstance(layer, keras.layers.BatchNormalization)
        for weight in (layer.moving_mean, layer.moving_variance)
    ]


def _pretend_pretrained_base() -> keras.Model:
    """A base whose moving statistics are far from what random digits give (as if pretrained)."""
    global _PRETEND_KERNEL
    keras.utils.set_random_seed(8)
    base = small_base()
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(np.full(layer.moving_mean.shape, -0.5, dtype="float32"))
            layer.moving_variance.assign(np.full(layer.moving_variance.shape, 2.0, "float32"))
    _PRETEND_KERNEL = keras.ops.convert_to_numpy(base.get_layer("conv3").kernel)
    return base


def target_validation_set() -> tuple[np.ndarray, np.ndarray]:
    """The bundled MNIST sample's validation digits 5-9, as raw pixels, with labels 0-4.

    These are the notebook's validation digits: exercise 4 is judged on them, so that the test
    digits stay for the notebook's final numbers.

    Examples
    --------
    >>> images, labels = target_validation_set()
    >>> images.dtype, sorted(set(labels.tolist()))
    (dtype('uint8'), [0, 1, 2, 3, 4])
    """
    _, (images, digits), _ = load_mnist_csv("mnist-sample")
    keep = digits >= 5
    return images[keep], digits[keep] - 5


@exercise("transfer_learning.4")
def check_4(model: Any) -> str:
    """Check a classifier of the digits 5-9 on the bundled sample's validation digits.

    The model takes digits (28, 28, 1) with their 0..255 values and returns 5 scores (class
    ``i`` is the digit ``5 + i``). It must classify at least :data:`ACCURACY_FLOOR` of the
    sample's validation digits 5-9 correctly (the same floor in quick mode); the test digits
    stay for the notebook's final numbers.

    Parameters
    ----------
    model : keras.Model or callable
        The trained model, or a function returning it.

    Returns
    -------
    str
        The accuracy and the floor.

    Examples
    --------
    >>> check_4(...)
    Exercise transfer_learning.4: not attempted yet: replace `...` with your answer.
    """
    model = as_model(model, name="your fine-tuned model")
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError) as error:
        raise Mistake("your model has no input shape yet: start it with keras.Input.") from error
    if len(inputs) != 1 or tuple(inputs[0].shape[1:]) != (28, 28, 1):
        raise Mistake("your model should take one input of shape (28, 28, 1).")
    if len(outputs) != 1 or tuple(outputs[0].shape[1:]) != (N_CLASSES,):
        shape = tuple(outputs[0].shape[1:]) if len(outputs) == 1 else "several outputs"
        raise Mistake(
            f"your model returns {shape}: it should return 5 scores, one per digit 5-9 "
            "(class i is the digit 5 + i)."
        )
    images, labels = target_validation_set()
    scores = as_array(model.predict(images.copy(), batch_size=500, verbose=0), "its scores")
    if not np.all(np.isfinite(scores)):
        raise Mistake("your model's scores contain NaN or infinite values: did training diverge?")
    share = float(np.mean(scores.argmax(axis=1) == labels))
    summary = (
        f"your model classifies {share:.1%} of the sample's {len(labels)} validation digits 5-9 "
        "correctly"
    )
    if share >= ACCURACY_FLOOR:
        return f"{summary} (floor {ACCURACY_FLOOR:.0%})."
    if accuracy(model, images / 255.0, labels) >= ACCURACY_FLOOR:
        raise Mistake(
            f"{summary} on raw pixels, but passes on pixels scaled to [0, 1]: keep the scaling "
            "inside the model (the base starts with a Rescaling layer), and train on raw pixels."
        )
    if share < 0.3:
        raise Mistake(
            f"{summary}, about chance (20%): did you train it, with labels 0-4 (digit - 5)?"
        )
    raise Mistake(
        f"{summary}, below the floor of {ACCURACY_FLOOR:.0%}: start from the pretrained base, "
        "train the head first with the base frozen, then unfreeze it (batch normalisation "
        "kept frozen) and fine-tune with a lower learning rate (sections 3 and 6)."
    )
