"""Tests for cnnkit.plotting: the drawn data equal the inputs, and the figures follow the
notebooks' rules (colour bars, one scale where asked, all-zero panels named, text >= 8 points,
suptitles clear of panel titles, no global style change)."""

from cnnkit import plotting
from cnnkit.plotting import (
    plot_before_after,
    plot_confusion_matrix,
    plot_digits,
    plot_feature_maps,
    plot_history,
    plot_image,
    plot_images,
    plot_matrix,
)

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.text import Text
from sklearn.metrics import confusion_matrix

matplotlib.use("Agg")  # no display needed
RNG = np.random.default_rng(0)
TEN_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _drawn(ax) -> np.ndarray:
    images = ax.get_images()
    assert len(images) == 1
    return np.asarray(images[0].get_array())


def _visible_texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def _colorbars(fig) -> list:
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


# --- plot_confusion_matrix -------------------------------------------------------------------


def test_confusion_matrix_keeps_all_classes_when_some_are_missing():
    # Regression: 10 class names but only labels {0, 1, 2} used to raise
    # "The number of FixedLocator locations (3) ... does not match the number of labels (10)".
    y_true = [0, 1, 2, 2, 1, 0, 2]
    y_pred = [0, 2, 2, 1, 1, 0, 0]
    expected = np.zeros((10, 10), dtype=int)  # rows: true class, columns: predicted class
    expected[:3, :3] = [
        [2, 0, 0],  # both 0s right
        [0, 1, 1],  # one 1 right, one taken for a 2
        [1, 1, 1],  # the three 2s: taken for 0, for 1, right
    ]
    ax = plot_confusion_matrix(y_true, y_pred, class_names=TEN_NAMES)
    np.testing.assert_array_equal(_drawn(ax), expected)
    np.testing.assert_array_equal(_drawn(ax), confusion_matrix(y_true, y_pred, labels=range(10)))
    assert [t.get_text() for t in ax.get_xticklabels()] == TEN_NAMES
    assert [t.get_text() for t in ax.get_yticklabels()] == TEN_NAMES
    written = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    assert {cell: int(t.get_text()) for cell, t in written.items()} == {
        (0, 0): 2, (1, 1): 1, (1, 2): 1, (2, 0): 1, (2, 1): 1, (2, 2): 1,
    }  # fmt: skip
    assert written[(0, 0)].get_color() == "white"  # the darkest cell
    assert written[(1, 1)].get_color() == "black"  # a light cell
    (colorbar,) = _colorbars(ax.figure)
    assert colorbar.get_ylabel() == "count"


def test_confusion_matrix_size_from_n_classes_or_largest_label():
    ax = plot_confusion_matrix([1, 1], [1, 0], n_classes=4)
    np.testing.assert_array_equal(_drawn(ax), confusion_matrix([1, 1], [1, 0], labels=range(4)))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3"]
    ax = plot_confusion_matrix(np.array([3, 0]), np.array([3, 3]), colorbar=False)
    assert _drawn(ax).shape == (4, 4) and _drawn(ax)[3, 3] == 1 and _drawn(ax)[0, 3] == 1
    assert _colorbars(ax.figure) == []


def test_confusion_matrix_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"0 \.\. 2 for 3 classes, got \[3\]"):
        plot_confusion_matrix([0, 3], [0, 1], class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="same length"):
        plot_confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="argmax"):
        plot_confusion_matrix([0, 1], [0.9, 0.1])
    with pytest.raises(ValueError, match="n_classes=4 but 3 class_names"):
        plot_confusion_matrix([0], [0], class_names=["a", "b", "c"], n_classes=4)


def test_confusion_matrix_on_given_axes_is_readable():
    fig, ax = plt.subplots()
    y = RNG.integers(0, 10, 200)
    assert plot_confusion_matrix(y, (y + (RNG.random(200) < 0.2)) % 10, ax=ax) is ax
    assert min(t.get_fontsize() for t in _visible_texts(fig)) >= plotting.MIN_FONTSIZE


# --- plot_image, plot_images, plot_feature_maps ----------------------------------------------


def test_plot_image_new_axes_grayscale_and_rgb():
    gray = RNG.random((5, 7, 1))
    ax = plot_image(gray, title="gray")
    assert isinstance(ax, plt.Axes) and ax.get_title() == "gray"
    np.testing.assert_array_equal(_drawn(ax), gray[..., 0])
    assert ax.get_images()[0].get_cmap().name == "gray"
    rgb = RNG.random((5, 7, 3))
    np.testing.assert_array_equal(_drawn(plot_image(rgb)), rgb)


def test_plot_image_uses_given_ax_and_shows_no_ticks():
    fig, ax = plt.subplots()
    assert plot_image(np.ones((4, 4)), ax=ax) is ax
    assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    assert len(fig.axes) == 1 and ax.get_title() == ""


def test_plot_image_names_all_zero_panels_and_adds_colorbar():
    assert plot_image(np.zeros((4, 4)), title="map 2").get_title() == "map 2 (all zero)"
    assert plot_image(np.zeros((4, 4, 3))).get_title() == "all zero"
    assert plot_image(np.eye(4) * 1e-9, title="tiny").get_title() == "tiny"  # not zero
    ax = plot_image(np.arange(12.0).reshape(3, 4), colorbar=True)
    (colorbar,) = _colorbars(ax.figure)
    assert colorbar.get_ylim() == (0.0, 11.0)


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


def test_plot_images_shared_scale_uses_one_scale_and_one_colorbar():
    images = [np.full((3, 3), -2.0), np.linspace(0, 5, 9).reshape(3, 3), np.zeros((3, 3))]
    fig, axes = plot_images(images, titles=["a", "b", "c"], colorbar=True, shared_scale=True)
    assert [ax.images[0].get_clim() for ax in axes] == [(-2.0, 5.0)] * 3
    assert axes[2].get_title() == "c (all zero)"
    (colorbar,) = _colorbars(fig)
    assert colorbar.get_ylim() == (-2.0, 5.0)
    # Without a shared scale, each image spans its own range and has its own colour bar.
    fig, axes = plot_images(images[1:2] * 2, colorbar=True)
    assert [ax.images[0].get_clim() for ax in axes] == [(0.0, 5.0)] * 2
    assert len(_colorbars(fig)) == 2
    # Given limits win over the shared ones.
    _, axes = plot_images(images, shared_scale=True, vmin=-10, vmax=10)
    assert {ax.images[0].get_clim() for ax in axes} == {(-10, 10)}


def test_plot_images_into_existing_axes():
    fig, grid = plt.subplots(2, 2)
    out_fig, axes = plot_images([np.ones((3, 3))] * 3, axes=grid)
    assert out_fig is fig and axes == list(grid.ravel()[:3])
    with pytest.raises(ValueError, match="need at least 5 axes"):
        plot_images([np.ones((3, 3))] * 5, axes=grid)


def test_grid_helpers_reject_an_empty_list():
    with pytest.raises(ValueError, match="no images to draw"):
        plot_images([])
    with pytest.raises(ValueError, match="no images to draw"):
        plot_digits(np.zeros((0, 28, 28)))


def test_plot_images_title_count_must_match():
    with pytest.raises(ValueError, match="2 images but 1 titles"):
        plot_images([np.ones((3, 3))] * 2, titles=["only one"])


def test_plot_feature_maps_draws_each_channel():
    maps = RNG.random((9, 11, 5))
    maps[..., 3] = 0
    fig, axes = plot_feature_maps(maps, colorbar=True, shared_scale=True)
    assert [ax.get_title() for ax in axes] == [
        "map 0",
        "map 1",
        "map 2",
        "map 3 (all zero)",
        "map 4",
    ]
    for c, ax in enumerate(axes):
        np.testing.assert_array_equal(_drawn(ax), maps[:, :, c])
        assert ax.images[0].get_clim() == (0.0, maps.max())
    assert len(_colorbars(fig)) == 1
    with pytest.raises(ValueError, match="outputs\\[0\\]"):
        plot_feature_maps(np.zeros((2, 9, 11, 5)))


# --- plot_before_after -----------------------------------------------------------------------


def _pixel_width(ax) -> float:
    """Width in screen pixels of one data pixel of the axes."""
    left, right = ax.get_xlim()
    return ax.get_window_extent().width / (right - left)


def test_plot_before_after_draws_the_smaller_image_at_its_real_size():
    before, after = RNG.random((40, 60)), RNG.random((20, 30))
    fig, axes = plot_before_after(before, after, titles=("image", "pooled"))
    fig.canvas.draw()
    assert [ax.get_title() for ax in axes] == ["image", "pooled"]
    np.testing.assert_array_equal(_drawn(axes[0]), before)
    np.testing.assert_array_equal(_drawn(axes[1]), after)
    widths = [ax.get_window_extent().width for ax in axes]
    assert widths[1] == pytest.approx(widths[0] / 2, rel=0.02)
    assert _pixel_width(axes[1]) == pytest.approx(_pixel_width(axes[0]), rel=0.02)


def test_plot_before_after_on_given_axes_same_pixel_size_or_stretched():
    fig, grid = plt.subplots(1, 2)
    plot_before_after(np.ones((8, 8)), np.ones((4, 4)), axes=grid)
    fig.canvas.draw()
    assert grid[1].get_xlim() == grid[0].get_xlim() == (-0.5, 7.5)
    assert _pixel_width(grid[1]) == pytest.approx(_pixel_width(grid[0]))
    _, axes = plot_before_after(np.ones((8, 8)), np.ones((4, 4)), real_size=False)
    assert axes[1].get_xlim() == (-0.5, 3.5)
    with pytest.raises(ValueError, match="pair"):
        plot_before_after(np.ones((2, 2)), np.ones((2, 2)), titles=("one",))


# --- plot_matrix -----------------------------------------------------------------------------


def test_plot_matrix_writes_every_value_in_its_cell():
    values = np.arange(1, 17).reshape(4, 4)
    ax = plot_matrix(values, title="input")
    np.testing.assert_array_equal(_drawn(ax), values)
    assert [t.get_text() for t in ax.texts] == [str(v) for v in range(1, 17)]
    positions = [tuple(np.round(t.get_position()).astype(int)) for t in ax.texts]
    assert positions == [(j, i) for i in range(4) for j in range(4)]  # (x, y) = (column, row)
    assert ax.texts[0].get_color() == "black" and ax.texts[-1].get_color() == "white"
    ax = plot_matrix(np.array([[-1.0, 0.5]]), fmt=".1f")
    assert [t.get_text() for t in ax.texts] == ["-1.0", "0.5"]


def test_plot_matrix_shared_colour_limits():
    # Two panels on one scale: the same value gets the same colour in both.
    small, large = np.array([[6, 1]]), np.array([[16, 6]])
    axes = [plot_matrix(m, vmin=1, vmax=16) for m in (small, large)]
    assert [ax.images[0].get_clim() for ax in axes] == [(1, 16), (1, 16)]
    colours = [ax.images[0].cmap(ax.images[0].norm(6)) for ax in axes]
    assert colours[0] == colours[1]
    assert plot_matrix(small).images[0].get_clim() == (1, 6)  # default: the matrix's own range


def test_plot_matrix_rejects_bad_shape_and_unreadable_text():
    with pytest.raises(ValueError, match="shape"):
        plot_matrix(np.zeros(3))
    with pytest.raises(ValueError, match="at least 8"):
        plot_matrix(np.eye(2), fontsize=7)


# --- plot_digits and plot_history ------------------------------------------------------------


def test_plot_digits_titles_mark_wrong_predictions_in_red():
    images = RNG.random((4, 28, 28, 1))
    fig = plot_digits(images, labels=[1, 2, 3, 4], predictions=[1, 7, 3, 9], ncols=2)
    titles = [ax.title for ax in fig.axes]
    assert [t.get_text() for t in titles] == [
        "true: 1\npredicted: 1",
        "true: 2\npredicted: 7",
        "true: 3\npredicted: 3",
        "true: 4\npredicted: 9",
    ]
    assert [t.get_color() for t in titles] == ["black", "red", "black", "red"]
    for image, ax in zip(images, fig.axes, strict=True):
        np.testing.assert_array_equal(_drawn(ax), image[..., 0])
        assert ax.images[0].get_cmap().name == "binary"


def test_plot_digits_class_names_and_ncols():
    images = RNG.random((6, 28, 28))
    fig = plot_digits(images, labels=[0, 1, 2, 0, 1, 2], class_names=["T-shirt", "bag", "shoe"])
    assert [ax.get_title() for ax in fig.axes] == ["T-shirt", "bag", "shoe"] * 2
    fig = plot_digits(images, ncols=4)
    assert fig.axes[0].get_subplotspec().get_geometry()[:2] == (2, 4)  # 2 rows of 4
    assert [ax.axison for ax in fig.axes] == [True] * 6 + [False] * 2


def test_suptitle_stays_clear_of_panel_titles():
    fig = plot_digits(RNG.random((20, 28, 28)), labels=range(20), predictions=range(20))
    fig.suptitle("misclassified test digits: predicted/true")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (suptitle,) = [t for t in fig.findobj(Text) if t.get_text().startswith("misclassified")]
    bottom = suptitle.get_window_extent(renderer).y0
    for ax in fig.axes:
        assert ax.title.get_window_extent(renderer).y1 <= bottom


def test_plot_history_draws_the_given_curves():
    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7], "accuracy": [0.5, 0.8, 0.9]}
    axes = plot_history(history, label="run A")
    assert len(axes) == 2
    train, valid = axes[0].lines
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(train.get_ydata(), history["loss"])
    np.testing.assert_array_equal(valid.get_ydata(), history["val_loss"])
    assert valid.get_linestyle() == "--" and valid.get_color() == train.get_color()
    assert [line.get_label() for line in axes[0].lines] == ["run A train", "run A validation"]
    (accuracy,) = axes[1].lines
    np.testing.assert_array_equal(accuracy.get_ydata(), history["accuracy"])
    assert plot_history({"loss": [2.0]}, metrics=["loss"], axes=axes[:1], label="B")[0] is axes[0]
    assert len(axes[0].lines) == 3
    with pytest.raises(ValueError, match=r"\['val_accuracy'\] are not in the history"):
        plot_history(history, metrics=["val_accuracy"])


# --- rules for every helper ------------------------------------------------------------------


def test_helpers_never_show_and_never_change_global_style(monkeypatch):
    def no_show(*args, **kwargs):
        raise AssertionError("a plotting helper called plt.show()")

    monkeypatch.setattr(plt, "show", no_show)
    before = dict(plt.rcParams)
    plot_digits(RNG.random((3, 28, 28)), labels=[0, 1, 2])
    plot_history({"loss": [1.0]}, metrics=["loss"])
    plot_confusion_matrix([0, 1], [1, 1])
    plot_image(np.eye(3), colorbar=True)
    plot_images([np.eye(3)] * 2, colorbar=True, shared_scale=True)
    plot_feature_maps(np.ones((3, 3, 2)))
    plot_before_after(np.eye(4), np.eye(2))
    plot_matrix(np.eye(2))
    assert dict(plt.rcParams) == before
