"""The checks of notebook 08's exercises accept right answers in other forms, name mistakes."""

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit.exercises import transfer_learning
from cnnkit.exercises.transfer_learning import target_validation_set
from cnnkit.transfer import small_base

import keras
import numpy as np
import pytest
import tensorflow as tf
from verdicts import assert_not_attempted, assert_wrong

# The classifier small_base() + Dense(5): conv1 288, bn1 4 x 32, conv2 18,432, bn2 4 x 64,
# conv3 73,728, bn3 4 x 128 (base 93,344), head 128 x 5 + 5 = 645.
BASE, HEAD, CONV2, CONV3 = 93_344, 645, 18_432, 73_728
BN2_HALF, BN3_HALF, MOVING = 128, 256, 2 * (32 + 64 + 128)
TOP_BLOCK = (HEAD + CONV3, BASE - CONV3)  # bn3 stays frozen
TOP_TWO = (HEAD + CONV2 + CONV3, BASE - CONV2 - CONV3)  # bn2 and bn3 stay frozen


# Exercise 1: trainable and non-trainable counts


def test_check_1_accepts_tuples_lists_and_numpy_numbers():
    assert transfer_learning.check_1(TOP_BLOCK, TOP_TWO)
    assert transfer_learning.check_1(
        [np.int64(TOP_BLOCK[0]), float(TOP_BLOCK[1])], np.array(TOP_TWO)
    )


def test_check_1_matches_keras_own_counts():
    base = small_base()
    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, keras.layers.Dense(5)(base(inputs)))
    for layer in base.layers:
        layer.trainable = layer.name in {"conv2", "conv3"}
    counts = (
        sum(int(np.prod(w.shape)) for w in model.trainable_weights),
        sum(int(np.prod(w.shape)) for w in model.non_trainable_weights),
    )
    assert counts == TOP_TWO


@pytest.mark.parametrize(
    "top_block, top_two, words",
    [
        (
            (TOP_BLOCK[0] + BN3_HALF, TOP_BLOCK[1]),
            TOP_TWO,
            ["too many", "bn3 stay frozen", "gamma"],
        ),
        ((TOP_BLOCK[0] + 2 * BN3_HALF, TOP_BLOCK[1]), TOP_TWO, ["never trainable"]),
        ((CONV3, TOP_BLOCK[1]), TOP_TWO, ["too few", "head trains"]),
        ((TOP_BLOCK[0] - 5, TOP_BLOCK[1]), TOP_TWO, ["5 biases"]),
        ((TOP_BLOCK[0] + 128, TOP_BLOCK[1]), TOP_TWO, ["conv3 have no bias"]),
        ((HEAD, TOP_BLOCK[1]), TOP_TWO, ["too few", "unfrozen convolution"]),
        ((TOP_BLOCK[0], TOP_BLOCK[1] - BN3_HALF), TOP_TWO, ["too few", "4 numbers per channel"]),
        ((TOP_BLOCK[0], TOP_BLOCK[1] - MOVING), TOP_TWO, ["moving means and variances"]),
        (TOP_BLOCK, (TOP_TWO[0] + BN2_HALF + BN3_HALF, TOP_TWO[1]), ["bn2 and bn3 stay frozen"]),
        (TOP_BLOCK, (TOP_BLOCK[0], TOP_TWO[1]), ["too few", "unfrozen convolution"]),
        (TOP_BLOCK, (TOP_TWO[0], TOP_BLOCK[1]), ["too many", "leave them out"]),
        (TOP_BLOCK, (TOP_TWO[0], TOP_TWO[1] + 224 - 192), ["no bias"]),
    ],
)
def test_check_1_names_the_typical_mistake_without_the_answer(top_block, top_two, words):
    verdict = transfer_learning.check_1(top_block, top_two)
    assert_wrong(verdict, *words)
    for count in (*TOP_BLOCK, *TOP_TWO):
        assert f"{count:,}" not in str(verdict) or count in (*top_block, *top_two)


def test_check_1_handles_unanswered_parts_and_wrong_shapes():
    assert_not_attempted(transfer_learning.check_1(TOP_BLOCK, ...), "top_two")
    assert_not_attempted(transfer_learning.check_1((HEAD, ...), TOP_TWO), "entries 1")
    assert_wrong(transfer_learning.check_1(HEAD, TOP_TWO), "list of 2 numbers")
    assert_wrong(transfer_learning.check_1((np.nan, TOP_BLOCK[1]), TOP_TWO), "nan", "whole number")
    assert_wrong(transfer_learning.check_1(TOP_BLOCK, (TOP_TWO[0], np.inf)), "inf")


# Exercise 2: unfreeze the top blocks


def unfreeze_top(base, n_blocks):
    base.trainable = True
    top = {f"conv{block}" for block in range(4 - n_blocks, 4)}
    for layer in base.layers:
        layer.trainable = layer.name in top
    return base


def unfreeze_top_by_index(base, n_blocks):
    """Another correct form: by position, and BatchNormalization layers by type."""
    base.trainable = True
    names = [layer.name for layer in base.layers]
    first = names.index(f"conv{4 - n_blocks}") if n_blocks else len(names)
    for i, layer in enumerate(base.layers):
        is_batch_norm = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = i >= first and not is_batch_norm
    return base


@pytest.mark.parametrize("answer", [unfreeze_top, unfreeze_top_by_index])
def test_check_2_accepts_correct_forms(answer):
    assert transfer_learning.check_2(answer)


def test_check_2_names_the_typical_mistakes():
    def base_still_frozen(base, n_blocks):
        top = {f"conv{block}" for block in range(4 - n_blocks, 4)}
        for layer in base.layers:
            layer.trainable = layer.name in top
        return base

    def bottom_blocks(base, n_blocks):
        base.trainable = True
        bottom = {f"conv{block}" for block in range(1, n_blocks + 1)}
        for layer in base.layers:
            layer.trainable = layer.name in bottom
        return base

    def with_their_batch_norm(base, n_blocks):
        unfreeze_top(base, n_blocks)
        for block in range(4 - n_blocks, 4):
            base.get_layer(f"bn{block}").trainable = True
        return base

    def every_batch_norm(base, n_blocks):
        unfreeze_top(base, n_blocks)
        for block in range(1, 4):
            base.get_layer(f"bn{block}").trainable = True
        return base

    def one_too_many(base, n_blocks):
        return unfreeze_top(base, min(n_blocks + 1, 3))

    def everything(base, n_blocks):
        base.trainable = True
        return base

    def forgot_return(base, n_blocks):
        unfreeze_top(base, n_blocks)

    assert_wrong(transfer_learning.check_2(base_still_frozen), "base.trainable = True first")
    assert_wrong(transfer_learning.check_2(bottom_blocks), "top ones")
    assert_wrong(transfer_learning.check_2(with_their_batch_norm), "BatchNormalization", "frozen")
    assert_wrong(transfer_learning.check_2(every_batch_norm), "training mode inside fit")
    assert_wrong(transfer_learning.check_2(one_too_many), "off by one")
    assert_wrong(transfer_learning.check_2(everything), "whole base")
    assert_not_attempted(transfer_learning.check_2(forgot_return), "return")
    assert_wrong(transfer_learning.check_2(lambda base, n: "base"), "return the base")


def test_check_2_says_not_attempted_for_the_notebook_skeleton():
    def skeleton(base, n_blocks): ...  # your code here

    assert_not_attempted(transfer_learning.check_2(skeleton))


# Exercise 3: fine-tuning without moving batch-norm statistics


def frozen_batch_norm_layers(base, n_classes):
    """Another correct form: freeze every BatchNormalization layer (inference mode in Keras 3)."""
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    inputs = keras.Input(shape=(28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(n_classes, activation="softmax")(base(inputs)))


def sequential_inference_mode(base, n_classes):
    """A Sequential wrapper around a layer that calls the base in inference mode."""

    class Frozen(keras.layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, x):
            return self.inner(x, training=False)

    return keras.Sequential([keras.Input((28, 28, 1)), Frozen(base), keras.layers.Dense(n_classes)])


@pytest.mark.parametrize("answer", [frozen_batch_norm_layers, sequential_inference_mode])
def test_check_3_accepts_correct_forms(answer):
    assert transfer_learning.check_3(answer)


def test_check_3_names_the_typical_mistakes():
    def training_mode(base, n_classes):
        inputs = keras.Input(shape=(28, 28, 1))
        return keras.Model(inputs, keras.layers.Dense(n_classes)(base(inputs)))

    def keras_2_recipe(base, n_classes):
        inputs = keras.Input(shape=(28, 28, 1))
        features = base(inputs, training=False)  # replaced by fit's training=True in Keras 3
        return keras.Model(inputs, keras.layers.Dense(n_classes)(features))

    def on_base_output(base, n_classes):
        return keras.Model(base.input, keras.layers.Dense(n_classes)(base.output))

    def frozen_base(base, n_classes):
        base.trainable = False
        return frozen_batch_norm_layers(base, n_classes)

    def a_copy(base, n_classes):
        return frozen_batch_norm_layers(small_base(), n_classes)

    def ten_outputs(base, n_classes):
        return frozen_batch_norm_layers(base, 10)

    assert_wrong(transfer_learning.check_3(training_mode), "moving statistics", "trainable = False")
    assert_wrong(transfer_learning.check_3(keras_2_recipe), "Keras 3", "fit's")
    assert_wrong(transfer_learning.check_3(on_base_output), "training=False")
    assert_wrong(transfer_learning.check_3(frozen_base), "must train the base")
    assert_wrong(transfer_learning.check_3(a_copy), "does not use the base")
    assert_wrong(transfer_learning.check_3(ten_outputs), "5 scores")
    assert_wrong(transfer_learning.check_3(lambda base, n: 3), "keras.Model")


# Exercise 4: a fine-tuned classifier of the digits 5-9


class Constant(keras.layers.Layer):
    """Scores that put `digit` first, whatever the image: a model of known accuracy."""

    def __init__(self, digit, **kwargs):
        super().__init__(**kwargs)
        self.digit = digit

    def call(self, x):
        batch = keras.ops.shape(x)[0]
        return keras.ops.tile(keras.ops.one_hot([self.digit], 5), [batch, 1])


def oracle_model(scale=1.0):
    """Perfect scores on the validation digits 5-9 (looked up by the image), for images * scale."""
    images, labels = target_validation_set()
    keys = tf.constant((images.reshape(len(images), -1).astype("float32") * scale).sum(axis=1))
    table = tf.constant(np.eye(5, dtype="float32")[labels])

    class Lookup(keras.layers.Layer):
        def call(self, x):
            sums = tf.reduce_sum(tf.reshape(tf.cast(x, "float32"), (tf.shape(x)[0], -1)), 1)
            index = tf.argmin(tf.abs(sums[:, None] - keys[None, :]), axis=1)
            return tf.gather(table, index)

    return keras.Sequential([keras.Input((28, 28, 1)), Lookup()])


def test_check_4_accepts_a_model_and_a_function_returning_it():
    assert transfer_learning.check_4(oracle_model())
    assert transfer_learning.check_4(lambda: oracle_model())


def test_check_4_names_the_typical_mistakes():
    constant = keras.Sequential([keras.Input((28, 28, 1)), Constant(0)])
    assert_wrong(transfer_learning.check_4(constant), "about chance")
    assert_wrong(transfer_learning.check_4(oracle_model(scale=1 / 255)), "Rescaling")
    ten = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    assert_wrong(transfer_learning.check_4(ten), "5 scores")
    assert_wrong(transfer_learning.check_4("model"), "keras.Model")
    assert_not_attempted(transfer_learning.check_4(...))
