"""Tests for cnnkit.plotting: figures and axes come back, and the right images are drawn."""

from cnnkit.plotting import (
    plot_before_after,
    plot_digits,
    plot_feature_maps,
    plot_image,
    plot_images,
    plot_matrix,
)

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

matplotlib.use("Agg")  # no display needed
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _drawn(ax) -> np.ndarray:
    images = ax.get_images()
    assert len(images) == 1
    return np.asarray(images[0].get_array())


def test_plot_image_new_axes_grayscale_and_rgb():
    ax = plot_image(RNG.random((5, 7, 1)), title="gray")
    assert isinstance(ax, plt.Axes) and ax.get_title() == "gray"
    assert _drawn(ax).shape == (5, 7)
    assert ax.get_images()[0].get_cmap().name == "gray"
    ax = plot_image(RNG.random((5, 7, 3)))
    assert _drawn(ax).shape == (5, 7, 3)


def test_plot_image_uses_given_ax_and_shows_no_ticks():
    fig, ax = plt.subplots()
    assert plot_image(np.zeros((4, 4)), ax=ax) is ax
    assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    assert len(fig.axes) == 1


def test_plot_image_rejects_bad_shape():
    with pytest.raises(ValueError, match=r"got shape \(2, 3, 4, 5\)"):
        plot_image(np.zeros((2, 3, 4, 5)))


def test_plot_images_grid_layout_and_titles():
    images = RNG.random((7, 6, 8, 3))
    fig, axes = plot_images(images, titles=[str(i) for i in range(7)], ncols=3)
    assert isinstance(fig, plt.Figure)
    assert len(axes) == 7 and len(fig.axes) == 9  # 3x3 grid, two spare axes switched off
    assert [ax.get_title() for ax in axes] == [str(i) for i in range(7)]
    for image, ax in zip(images, axes, strict=True):
        np.testing.assert_array_equal(_drawn(ax), image)


def test_plot_images_into_existing_axes():
    fig, grid = plt.subplots(2, 2)
    out_fig, axes = plot_images([np.zeros((3, 3))] * 3, axes=grid)
    assert out_fig is fig and len(axes) == 3
    with pytest.raises(ValueError, match="need at least 5 axes"):
        plot_images([np.zeros((3, 3))] * 5, axes=grid)


def test_plot_images_title_count_must_match():
    with pytest.raises(ValueError, match="2 images but 1 titles"):
        plot_images([np.zeros((3, 3))] * 2, titles=["only one"])


def test_plot_feature_maps_draws_each_channel():
    maps = RNG.random((9, 11, 5))
    _, axes = plot_feature_maps(maps)
    assert len(axes) == 5
    assert [ax.get_title() for ax in axes] == [f"map {c}" for c in range(5)]
    for c, ax in enumerate(axes):
        np.testing.assert_array_equal(_drawn(ax), maps[:, :, c])
    with pytest.raises(ValueError, match="outputs\\[0\\]"):
        plot_feature_maps(np.zeros((2, 9, 11, 5)))


def test_plot_before_after_pair():
    before, after = RNG.random((8, 8)), RNG.random((4, 4))
    fig, axes = plot_before_after(before, after, titles=("image", "pooled"))
    assert len(axes) == 2 and len(fig.axes) == 2
    assert [ax.get_title() for ax in axes] == ["image", "pooled"]
    assert _drawn(axes[0]).shape == (8, 8) and _drawn(axes[1]).shape == (4, 4)


def test_plot_matrix_writes_every_value():
    values = np.arange(1, 17).reshape(4, 4)
    ax = plot_matrix(values, title="input")
    assert [t.get_text() for t in ax.texts] == [str(v) for v in range(1, 17)]
    np.testing.assert_array_equal(_drawn(ax), values)
    ax = plot_matrix(np.array([[-1.0, 0.5]]), fmt=".1f")
    assert [t.get_text() for t in ax.texts] == ["-1.0", "0.5"]
    with pytest.raises(ValueError, match="shape"):
        plot_matrix(np.zeros(3))


def test_plot_digits_titles_mark_wrong_predictions_in_red():
    images = np.zeros((4, 28, 28, 1))
    fig = plot_digits(images, labels=[1, 2, 3, 4], predictions=[1, 7, 3, 9], n_cols=2)
    titles = [ax.title for ax in fig.axes]
    assert [t.get_text() for t in titles] == ["1/1", "7/2", "3/3", "9/4"]
    assert [t.get_color() for t in titles] == ["black", "red", "black", "red"]
    assert fig.axes[0].images[0].get_array().shape == (28, 28)
    plt.close(fig)
