"""Checks on models a learner trained and on experiments they measured.

Shared by the exercise modules whose answers are trained models (``mnist_csv``, ``lenet``,
``cifar``) or measured runs (``mnist_csv``, ``lenet``): the model's input and output shapes, its
parameter budget, its accuracy on test images, and a learner's claim of which of two runs
ended with the higher validation accuracy. Each function raises
:class:`~cnnkit.exercises.checking.Mistake` with a hint when the answer is wrong.
"""

from __future__ import annotations

from typing import Any

from cnnkit.data import find_mnist_csv, load_mnist_csv
from cnnkit.exercises.checking import Mistake, as_array

import keras
import numpy as np


def all_layers(model: keras.layers.Layer) -> list[keras.layers.Layer]:
    """The layers of `model`, looking inside nested models, in order.

    Parameters
    ----------
    model : keras.layers.Layer
        A model (or any layer; one without sublayers gives an empty list).

    Returns
    -------
    list of keras.layers.Layer
        Each layer, followed by the layers nested in it.

    Examples
    --------
    >>> inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="hidden")])
    >>> outer = keras.Sequential([inner, keras.layers.Dense(2, name="out")])
    >>> [layer.name for layer in all_layers(outer)][1:]
    ['hidden', 'out']
    """
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found.extend(all_layers(layer))
    return found


def check_classifier_shapes(
    model: keras.Model,
    name: str,
    input_shape: tuple[int, ...] = (28, 28, 1),
    per: str = "digit",
) -> None:
    """Raise unless `model` takes one image input of `input_shape` and returns 10 scores.

    Parameters
    ----------
    model : keras.Model
        The learner's model.
    name : str
        The model's name in messages, e.g. "your CNN".
    input_shape : tuple of int, default=(28, 28, 1)
        The shape of one image, without the batch axis.
    per : str, default="digit"
        What each of the 10 scores stands for, in messages ("digit", "class").

    Raises
    ------
    Mistake
        If the model takes other inputs or returns other outputs. A subclassed model, which
        has no symbolic inputs, is called on one zero image instead.

    Examples
    --------
    >>> model = keras.Sequential(
    ...     [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    ... )
    >>> check_classifier_shapes(model, "your CNN")
    >>> check_classifier_shapes(model, "your CNN", input_shape=(32, 32, 3), per="class")
    Traceback (most recent call last):
    ...
    cnnkit.exercises.checking.Mistake: your CNN takes inputs of shape (28, 28, 1), expected one input of shape (32, 32, 3): start it with keras.Input(shape=(32, 32, 3)).
    """  # noqa: E501 (a doctest's exception line cannot be wrapped)
    start = f"start it with keras.Input(shape={tuple(input_shape)})"
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if inputs is None:  # a subclassed model: it has no symbolic inputs, so call it on a batch
        _check_scores_of_one_batch(model, name, tuple(input_shape), per)
        return
    if len(inputs) != 1 or tuple(inputs[0].shape[1:]) != tuple(input_shape):
        shapes = ", ".join(str(tuple(x.shape[1:])) for x in inputs)
        raise Mistake(
            f"{name} takes inputs of shape {shapes}, expected one input of shape "
            f"{tuple(input_shape)}: {start}."
        )
    if len(outputs) != 1 or tuple(outputs[0].shape[1:]) != (10,):
        shapes = ", ".join(str(tuple(y.shape[1:])) for y in outputs)
        raise Mistake(
            f"{name} returns outputs of shape {shapes}, expected one output of 10 scores, one "
            f"per {per}: end it with keras.layers.Dense(10)."
        )


def _check_scores_of_one_batch(
    model: keras.Model, name: str, input_shape: tuple[int, ...], per: str
) -> None:
    """Raise unless `model` maps one zero image of `input_shape` to 10 scores (inference)."""
    try:
        scores = model(np.zeros((1, *input_shape), "float32"), training=False)
    except Exception as error:  # the learner's model failed: its message is the hint
        raise Mistake(
            f"{name} cannot take a batch of images of shape {input_shape} "
            f"({type(error).__name__}: {error})."
        ) from error
    if tuple(scores.shape) != (1, 10):
        raise Mistake(
            f"{name} returns outputs of shape {tuple(scores.shape[1:])} for one image, expected "
            f"10 scores, one per {per}: end it with keras.layers.Dense(10)."
        )


def check_parameter_budget(model: keras.Model, name: str, budget: int, advice: str) -> None:
    """Raise unless `model` has at most `budget` parameters; name its largest layer if not.

    Parameters
    ----------
    model : keras.Model
        The learner's model.
    name : str
        The model's name in messages, e.g. "your CNN".
    budget : int
        The most parameters allowed.
    advice : str
        How to shrink the model, ending the hint.

    Raises
    ------
    Mistake
        If the model has more than `budget` parameters.

    Examples
    --------
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, name="scores")])
    >>> check_parameter_budget(model, "your model", 50, "use fewer units.")
    >>> check_parameter_budget(model, "your model", 40, "use fewer units.")
    Traceback (most recent call last):
    ...
    cnnkit.exercises.checking.Mistake: your model has 50 parameters, over the budget of 40; its largest layer, 'scores' (Dense), holds 50: use fewer units.
    """  # noqa: E501 (a doctest's exception line cannot be wrapped)
    parameters = model.count_params()
    if parameters > budget:
        largest = max(all_layers(model), key=lambda layer: layer.count_params())
        raise Mistake(
            f"{name} has {parameters:,} parameters, over the budget of {budget:,}; "
            f"its largest layer, '{largest.name}' ({type(largest).__name__}), holds "
            f"{largest.count_params():,}: {advice}"
        )


def mnist_sample_test_set() -> tuple[np.ndarray, np.ndarray]:
    """The bundled MNIST sample's 1,000 test digits, whatever data set a notebook loaded.

    Returns
    -------
    images : numpy.ndarray
        Shape (1000, 28, 28, 1), uint8 pixels 0..255 (models take raw pixels).
    labels : numpy.ndarray
        Shape (1000,), the digits.

    Examples
    --------
    >>> images, labels = mnist_sample_test_set()
    >>> images.shape, labels.shape
    ((1000, 28, 28, 1), (1000,))
    """
    _, _, (images, labels) = load_mnist_csv("mnist-sample")
    return images, labels


def accuracy(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, batch_size: int = 500
) -> float:
    """Fraction of `images` whose highest score is the label (probabilities or logits).

    Parameters
    ----------
    model : keras.Model
        A classifier returning one score per class.
    images : numpy.ndarray
        The inputs, batch first.
    labels : numpy.ndarray
        The true class of each input.
    batch_size : int, default=500
        Inputs per prediction batch.

    Returns
    -------
    float
        The accuracy, between 0 and 1.

    Examples
    --------
    >>> scores = keras.Sequential([keras.Input((2,)), keras.layers.Identity()])
    >>> accuracy(scores, np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 0]))
    0.5
    """
    scores = keras.ops.convert_to_numpy(model.predict(images, batch_size=batch_size, verbose=0))
    return float(np.mean(np.asarray(scores).argmax(axis=1) == labels))


def digit_marking_set() -> tuple[np.ndarray, np.ndarray, str]:
    """The digits a trained model is marked on: never digits a notebook trained on.

    The bundled sample's 1,000 test digits come from MNIST's official *training* file. A
    notebook that loads ``"mnist"`` trains on the sample's training split while only the
    sample is here, so the sample's test digits are new to the model; once the full MNIST is
    fetched it trains on the official training file, and the marking moves to the official
    10,000 test digits.

    Returns
    -------
    images : numpy.ndarray
        Shape (n, 28, 28, 1), uint8 pixels 0..255 (models take raw pixels).
    labels : numpy.ndarray
        Shape (n,), the digits.
    description : str
        Which digits they are, for messages.

    Examples
    --------
    >>> images, labels, description = digit_marking_set()
    >>> images.dtype, len(images) == len(labels)
    (dtype('uint8'), True)
    """
    train_file, _, _ = find_mnist_csv("mnist")
    if train_file == find_mnist_csv("mnist-sample")[0]:
        images, labels = mnist_sample_test_set()
        return images, labels, f"the bundled sample's {len(labels):,} test digits"
    _, _, (images, labels) = load_mnist_csv("mnist")
    return images, labels, f"the official MNIST test set's {len(labels):,} digits"


def digit_accuracy_verdict(
    model: keras.Model, name: str, floor: float, advice: str, remark: str = ""
) -> str:
    """Evaluate `model` on raw test digits (see :func:`digit_marking_set`); raise below `floor`.

    The model gets raw pixels, 0..255, as the loaders return them. A model that does much
    better on pixels divided by 255 is told to put ``keras.layers.Rescaling(1 / 255)`` first.

    Parameters
    ----------
    model : keras.Model
        The learner's trained digit classifier.
    name : str
        The model's name in messages, e.g. "your CNN".
    floor : float
        The least accuracy accepted.
    advice : str
        How to do better, ending the hint when the model is below the floor.
    remark : str, default=""
        Appended to the summary when the model passes.

    Returns
    -------
    str
        The model's parameter count and accuracy, and the floor.

    Raises
    ------
    Mistake
        Below `floor` (saying so when the model expects pixels in [0, 1], or when the
        accuracy is about chance: an untrained model).

    Examples
    --------
    >>> untrained = keras.Sequential(
    ...     [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    ... )
    >>> digit_accuracy_verdict(untrained, "your CNN", 0.0, "train longer.")  # doctest: +ELLIPSIS
    "your CNN (7,850 parameters) classifies ...% of the bundled sample's 1,000 test digits correctly (floor 0%)."
    """  # noqa: E501 (a doctest's output line cannot be wrapped)
    images, labels, description = digit_marking_set()
    share = accuracy(model, images, labels)
    summary = (
        f"{name} ({model.count_params():,} parameters) classifies {share:.1%} of "
        f"{description} correctly"
    )
    if share >= floor:
        return f"{summary} (floor {floor:.0%}){remark}."
    scaled = accuracy(model, images.astype(np.float32) / 255, labels)
    if scaled >= floor:  # the raw pixels fail the floor, the scaled ones pass it
        raise Mistake(
            f"{summary} when given raw pixels (0..255, as the loaders return them), and "
            f"{scaled:.1%} when given pixels / 255: your model expects pixels in [0, 1]: put "
            "keras.layers.Rescaling(1 / 255) first (a trained model can be wrapped as it is: "
            "keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255), "
            "model]))."
        )
    if share < 0.2:
        raise Mistake(
            f"{summary}, about chance (10%): did you train it (compile and fit) before checking? "
            "Pass the trained model, not the function that builds it."
        )
    raise Mistake(f"{summary}, below the floor of {floor:.0%}: {advice}")


def final_validation_accuracy(run: Any, name: str) -> tuple[float, int | None]:
    """The last validation accuracy of a run, and how many epochs the run records.

    Parameters
    ----------
    run : keras.callbacks.History, dict or float
        A History, its ``.history`` dict, or the final validation accuracy itself.
    name : str
        The run's name in messages, e.g. "`history_64`".

    Returns
    -------
    accuracy : float
        The last ``val_accuracy``.
    epochs : int or None
        The number of epochs recorded (None when `run` is a number).

    Raises
    ------
    Mistake
        If the run holds no validation accuracy, or it is not between 0 and 1.

    Examples
    --------
    >>> final_validation_accuracy({"val_accuracy": [0.8, 0.9]}, "`run`")
    (0.9, 2)
    >>> final_validation_accuracy(0.95, "`run`")
    (0.95, None)
    """
    if isinstance(run, keras.callbacks.History):
        run = run.history
    epochs = None
    if isinstance(run, dict):
        values = run.get("val_accuracy")
        if not values:
            keys = ", ".join(sorted(run)) or "nothing"
            raise Mistake(
                f"{name} holds no validation accuracy (it has {keys}): train with "
                "validation_data=(X_valid, y_valid) and metrics=['accuracy']."
            )
        run, epochs = values[-1], len(values)
    value = float(as_array(run, name).reshape(-1)[-1])
    if not 0.0 <= value <= 1.0:
        hint = ": give a fraction between 0 and 1, not a percentage" if 1 < value <= 100 else ""
        raise Mistake(f"{name}: a validation accuracy of {value:g} is impossible{hint}.")
    return value, epochs


def same_epochs(epochs: list[int | None], what: str) -> str:
    """Raise unless the runs that record epochs have as many; say when they were compared.

    Parameters
    ----------
    epochs : list of int or None
        Each run's number of epochs (None for a run given as a number).
    what : str
        The setting the runs should differ in, e.g. "the batch size".

    Returns
    -------
    str
        "after N epochs", or "at the end" when no run records its epochs.

    Raises
    ------
    Mistake
        If two runs record different numbers of epochs.

    Examples
    --------
    >>> same_epochs([3, None], "the batch size")
    'after 3 epochs'
    >>> same_epochs([None, None], "the batch size")
    'at the end'
    """
    known = sorted({count for count in epochs if count is not None})
    if len(known) > 1:
        raise Mistake(
            f"your runs have {' and '.join(map(str, known))} epochs: train both for the same "
            f"number of epochs, so that only {what} differs."
        )
    if not known:
        return "at the end"
    return f"after {known[0]} epoch{'s' if known[0] > 1 else ''}"


def claimed_label(better: Any, labels: list[str]) -> str:
    """Which of `labels` the answer `better` names (a number or a string, in any case).

    An exact match (ignoring case) wins; otherwise the one label the answer contains.

    Parameters
    ----------
    better : int, float or str
        The learner's answer.
    labels : list of str
        The possible answers.

    Returns
    -------
    str
        The label named.

    Raises
    ------
    Mistake
        If `better` names none of the labels, or more than one.

    Examples
    --------
    >>> claimed_label(64, ["64", "1000"])
    '64'
    >>> claimed_label("ReLU + max pooling", ["sigmoid", "relu"])
    'relu'
    """
    if isinstance(better, str):
        text = better.strip().lower()
    else:
        try:
            text = f"{float(as_array(better, '`better`').reshape(-1)[0]):g}"
        except Mistake as error:
            raise Mistake(f"`better` should be one of {labels}, got {better!r}.") from error
    matches = [label for label in labels if label.lower() == text]
    matches = matches or [label for label in labels if label.lower() in text]
    if len(matches) != 1:
        raise Mistake(f"`better` should be one of {labels}, got {better!r}.")
    return matches[0]
