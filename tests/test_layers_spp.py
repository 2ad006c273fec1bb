"""Tests for cnnkit.layers.SpatialPyramidPooling2D (He et al. 2014, SPP-net)."""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from cnnkit.layers import SpatialPyramidPooling2D
from cnnkit.reference import conv_output_size

LEVELS = (1, 2, 4)
# (height, width): divisible by every level, not divisible, smaller than the 4x4 grid,
# non-square, and 1-pixel axes.
SIZES = [(8, 8), (7, 7), (13, 9), (2, 2), (3, 5), (6, 14), (1, 1), (1, 6)]


def _bins(size: int, n: int) -> list[tuple[int, int]]:
    """Bin i of n over `size` rows: floor(i * size / n) to ceil((i + 1) * size / n)."""
    return [((i * size) // n, -(-((i + 1) * size) // n)) for i in range(n)]


def _numpy_spp(x: np.ndarray, levels, mode: str) -> np.ndarray:
    """Loops over levels, bins and images: the paper's pyramid with adaptive bins."""
    reduce = np.max if mode == "max" else np.mean
    parts = []
    for n in levels:
        level = np.zeros((x.shape[0], n, n, x.shape[3]))
        for i, (r0, r1) in enumerate(_bins(x.shape[1], n)):
            for j, (c0, c1) in enumerate(_bins(x.shape[2], n)):
                level[:, i, j, :] = reduce(x[:, r0:r1, c0:c1, :], axis=(1, 2))
        parts.append(level.reshape(x.shape[0], -1))
    return np.concatenate(parts, axis=1)


def _keras_spp(x: np.ndarray, levels, mode: str) -> np.ndarray:
    """Keras' own layers: global pooling for the 1x1 level, adaptive pooling for the others."""
    if mode == "max":
        whole, adaptive = keras.layers.GlobalMaxPooling2D(), keras.layers.AdaptiveMaxPooling2D
    else:
        whole, adaptive = (
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.AdaptiveAveragePooling2D,
        )
    parts = [whole(x) if n == 1 else adaptive(n)(x) for n in levels]
    return np.concatenate(
        [keras.ops.convert_to_numpy(part).reshape(x.shape[0], -1) for part in parts], axis=1
    )


def _random(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize(("height", "width"), SIZES)
def test_matches_the_numpy_loops(height, width, mode):
    x = _random((2, height, width, 3))
    got = keras.ops.convert_to_numpy(SpatialPyramidPooling2D(LEVELS, mode=mode)(x))
    assert got.shape == (2, 3 * 21)
    np.testing.assert_allclose(got, _numpy_spp(x, LEVELS, mode), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize(("height", "width"), SIZES)
def test_matches_keras_global_and_adaptive_pooling(height, width, mode):
    # Keras 3.15's adaptive pooling uses the same floor/ceil bins (the same values for every
    # height 2..40, 7 widths and n = 2, 3, 4, 6), but it needs sizes known when the model is
    # built, and on the TensorFlow backend AdaptiveMaxPooling2D kills the process with a
    # floating point exception when ceil(a / n) + 1 > a (n = 1, or an axis of length 1).
    # So the 1x1 level is checked against global pooling, and 1-pixel axes of max pooling
    # only against the loops.
    if mode == "max" and min(height, width) == 1:
        pytest.skip("AdaptiveMaxPooling2D crashes on an axis of length 1 (see above)")
    x = _random((2, height, width, 4), seed=1)
    got = keras.ops.convert_to_numpy(SpatialPyramidPooling2D(LEVELS, mode=mode)(x))
    np.testing.assert_allclose(got, _keras_spp(x, LEVELS, mode), rtol=1e-5, atol=1e-6)


def test_bins_cover_every_row_and_are_never_empty():
    for size in range(1, 30):
        for n in (1, 2, 3, 4, 6):
            bins = _bins(size, n)
            assert all(end > start for start, end in bins)
            assert bins[0][0] == 0 and bins[-1][1] == size
            assert all(b[0] <= a[1] for a, b in itertools.pairwise(bins))


def test_the_papers_sliding_window_fails_where_adaptive_bins_do_not():
    # He et al.: window ceil(a / n), stride floor(a / n). Right when n divides a (13 -> 3
    # gives 3 windows in the paper's setting too), wrong for a = 7, n = 4: 6 windows.
    def paper_windows(a, n):
        return conv_output_size(a, -(-a // n), stride=a // n, padding="valid")

    assert paper_windows(8, 4) == 4 and _bins(8, 4) == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert paper_windows(13, 3) == 3
    assert paper_windows(7, 4) == 6  # six bins where the level needs four
    window, stride = -(-14 // 4), 14 // 4  # a = 14: windows start at 0, 3, 6, 9 ...
    assert (4 - 1) * stride + window == 13  # ... and the last ends before row 13
    with pytest.raises(ValueError, match="positive"):
        paper_windows(3, 4)  # a < n: stride 0
    x = _random((1, 7, 7, 2))
    assert SpatialPyramidPooling2D((4,))(x).shape == (1, 4 * 4 * 2)


def test_one_model_takes_many_sizes_eagerly_and_in_fit_and_predict():
    inputs = keras.Input(shape=(None, None, 3))
    features = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    pooled = SpatialPyramidPooling2D(LEVELS)(features)
    model = keras.Model(inputs, keras.layers.Dense(2)(pooled))
    assert model.output_shape == (None, 2)
    assert model.layers[2].output.shape == (None, 4 * 21)
    for height, width in [(7, 7), (13, 9), (2, 2), (3, 5)]:
        x = _random((3, height, width, 3), seed=height)
        assert model(x).shape == (3, 2)
        assert model.predict(x, verbose=0).shape == (3, 2)
        model.compile(optimizer="sgd", loss="mse")
        history = model.fit(x, np.zeros((3, 2)), epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])


def test_runs_inside_a_tf_function_with_unknown_sizes():
    layer = SpatialPyramidPooling2D(LEVELS)
    run = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 2))])
    for shape in [(1, 7, 7, 2), (2, 13, 9, 2), (1, 3, 2, 2)]:
        x = _random(shape)
        np.testing.assert_allclose(run(x).numpy(), _numpy_spp(x, LEVELS, "max"), rtol=1e-6)


def test_max_mode_gradient_reaches_only_each_bins_winner():
    x = _random((2, 7, 6, 3), seed=7)  # 7 is not divisible by 2 or 4: bins overlap
    tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        total = tf.reduce_sum(SpatialPyramidPooling2D(LEVELS)(tensor))
    gradient = tape.gradient(total, tensor).numpy()
    wins = np.zeros_like(x)  # how many bins each value wins (random values: no ties)
    for n in LEVELS:
        for r0, r1 in _bins(7, n):
            for c0, c1 in _bins(6, n):
                for b in range(2):
                    for c in range(3):
                        window = x[b, r0:r1, c0:c1, c]
                        i, j = np.unravel_index(np.argmax(window), window.shape)
                        wins[b, r0 + i, c0 + j, c] += 1
    np.testing.assert_array_equal(gradient, wins)
    assert (gradient == 0).mean() > 0.5  # most values win no bin and get no gradient


def test_keras_file_round_trip_at_two_sizes(tmp_path):
    inputs = keras.Input(shape=(None, None, 3))
    features = keras.layers.Conv2D(5, 3, activation="relu")(inputs)
    outputs = keras.layers.Dense(3)(SpatialPyramidPooling2D((1, 3), mode="average")(features))
    model = keras.Model(inputs, outputs)
    path = tmp_path / "spp.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # registered: no custom_objects needed
    layer = loaded.layers[2]
    assert isinstance(layer, SpatialPyramidPooling2D)
    assert layer.levels == (1, 3) and layer.mode == "average"
    for shape in [(2, 9, 9, 3), (1, 12, 5, 3)]:
        x = _random(shape, seed=shape[1])
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_config_round_trip():
    layer = SpatialPyramidPooling2D(levels=[1, 2, 6], mode="average", name="spp")
    config = layer.get_config()
    assert config["levels"] == [1, 2, 6] and config["mode"] == "average"
    clone = SpatialPyramidPooling2D.from_config(config)
    assert clone.levels == (1, 2, 6) and clone.mode == "average" and clone.name == "spp"
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(restored, SpatialPyramidPooling2D) and restored.levels == (1, 2, 6)


def test_compute_output_shape():
    layer = SpatialPyramidPooling2D((1, 2, 4))
    assert layer.compute_output_shape((None, None, None, 16)) == (None, 16 * 21)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"levels": ()}, "at least one grid size"),
        ({"levels": (1, 0, 4)}, "each level must be a positive integer, got 0"),
        ({"levels": (1, -2)}, "positive integer"),
        ({"levels": (1, 2.5)}, "positive integer"),
        ({"levels": 4}, "sequence of positive integers"),
        ({"levels": "124"}, "sequence of positive integers"),
        ({"mode": "min"}, 'mode must be "max" or "average"'),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SpatialPyramidPooling2D(**kwargs)


def test_wrong_rank_and_unknown_channels_raise():
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        SpatialPyramidPooling2D()(np.zeros((2, 4, 6), "float32"))
    with pytest.raises(ValueError, match="known channel count"):
        SpatialPyramidPooling2D()(keras.Input(shape=(None, None, None)))
