"""Plotting helpers for the notebooks. They take an optional ``ax``, return the figure
or axes, never call ``plt.show()`` and never change global matplotlib style."""

import matplotlib.pyplot as plt
import numpy as np


def plot_digits(
    images: np.ndarray,
    labels=None,
    predictions=None,
    *,
    n_cols: int = 10,
    class_names=None,
    size: float = 1.2,
    axes=None,
):
    """Show digit-like images (n, 28, 28[, 1]) in a grid, titled with their labels.

    Parameters
    ----------
    images : ndarray of shape (n, height, width) or (n, height, width, 1)
        Grey images, any value range.
    labels : array-like of int, optional
        True labels, shown above each image.
    predictions : array-like of int, optional
        Predicted labels; shown as "pred/true" and in red where they differ from ``labels``.
    n_cols : int, default=10
        Images per row.
    class_names : sequence of str, optional
        Names for the label numbers (for example Fashion-MNIST's clothing names).
    size : float, default=1.2
        Width and height in inches of each image in a new figure (larger for long names).
    axes : sequence of matplotlib Axes, optional
        Where to draw, one per image; a new figure is made if not given.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_digits(np.zeros((3, 28, 28)), labels=[0, 1, 2])
    >>> len(fig.axes)
    3
    """
    images = np.asarray(images)
    fig, flat = _grid_axes(len(images), max(1, min(n_cols, len(images))), axes, size)
    name = (lambda k: class_names[k]) if class_names is not None else str
    for i, (image, ax) in enumerate(zip(images, flat, strict=True)):
        plot_image(image, ax=ax, cmap="binary")
        if predictions is not None and labels is not None:
            wrong = predictions[i] != labels[i]
            ax.set_title(
                f"{name(predictions[i])}/{name(labels[i])}",
                fontsize=8,
                color="red" if wrong else "black",
            )
        elif labels is not None:
            ax.set_title(name(labels[i]), fontsize=9)
    return fig


def plot_history(history, *, metrics=("loss", "accuracy"), axes=None, label: str = ""):
    """Plot training and validation curves from ``model.fit``'s History, one panel per metric.

    Parameters
    ----------
    history : keras.callbacks.History or dict
        ``model.fit(...)``'s return value or its ``.history`` dict.
    metrics : sequence of str, default=("loss", "accuracy")
        Metric names; ``val_<name>`` is drawn dashed when present.
    axes : sequence of matplotlib Axes, optional
        One per metric; new ones are made if not given. Pass the same axes again to
        overlay several runs.
    label : str, default=""
        Prefix for the legend entries, to tell runs apart.

    Returns
    -------
    ndarray of matplotlib Axes

    Examples
    --------
    >>> axes = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, metrics=["loss"])
    >>> len(axes[0].lines)
    2
    """
    values = getattr(history, "history", history)
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.2), squeeze=False)
        axes = axes[0]
    axes = np.atleast_1d(axes)
    for ax, metric in zip(axes, metrics, strict=True):
        epochs = np.arange(1, len(values[metric]) + 1)
        (line,) = ax.plot(epochs, values[metric], label=f"{label} train".strip())
        if f"val_{metric}" in values:
            ax.plot(
                epochs,
                values[f"val_{metric}"],
                "--",
                color=line.get_color(),
                label=f"{label} validation".strip(),
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return axes


def plot_confusion_matrix(y_true, y_pred, *, class_names=None, ax=None):
    """Draw the confusion matrix: rows are true classes, columns predicted, counts in cells.

    Parameters
    ----------
    y_true, y_pred : array-like of int
        True and predicted labels.
    class_names : sequence of str, optional
        Tick labels; defaults to the class numbers.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made if not given.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_confusion_matrix([0, 1, 1], [0, 1, 0])
    >>> ax.get_xlabel()
    'predicted label'
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    n = int(max(y_true.max(), y_pred.max())) + 1
    matrix = np.zeros((n, n), dtype=int)
    np.add.at(matrix, (y_true, y_pred), 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            color = "white" if count > matrix.max() / 2 else "black"
            ax.text(j, i, count, ha="center", va="center", fontsize=7, color=color)
    names = class_names if class_names is not None else range(n)
    ax.set_xticks(range(n), names, fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    return ax


def _as_2d_or_rgb(image) -> np.ndarray:
    """Return an (H, W) or (H, W, 3) array; (H, W, 1) is squeezed to (H, W)."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (3, 4)):
        return image
    raise ValueError(
        f"expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
        f"got shape {image.shape}"
    )


def _grid_axes(n: int, ncols: int | None, axes, size: float):
    """Return (figure, flat list of n axes), making a grid when ``axes`` is None."""
    if axes is not None:
        flat = list(np.ravel(axes))
        if len(flat) < n:
            raise ValueError(f"need at least {n} axes to draw {n} images, got {len(flat)}")
        return flat[0].figure, flat[:n]
    ncols = min(n, 5) if ncols is None else ncols
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    nrows = -(-n // ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    flat = list(grid.ravel())
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n]


def plot_image(image, ax=None, title: str | None = None, cmap: str = "gray", **imshow_kwargs):
    """Draw one image without axis ticks.

    Parameters
    ----------
    image : array_like of shape (H, W), (H, W, 1) or (H, W, 3)
        Grayscale images use ``cmap``; RGB images are drawn as they are (values in [0, 1]).
    ax : matplotlib Axes, optional
        Where to draw; a new small figure when omitted.
    title : str, optional
        Title above the image.
    cmap : str, default="gray"
        Colour map for grayscale images.
    **imshow_kwargs
        Passed to ``ax.imshow`` (``vmin``, ``vmax``, ``interpolation``...).

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> ax = plot_image(np.eye(4), title="identity")
    >>> ax.get_title()
    'identity'
    """
    image = _as_2d_or_rgb(image)
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(image, cmap=cmap if image.ndim == 2 else None, **imshow_kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax


def plot_images(
    images,
    titles=None,
    ncols: int | None = None,
    axes=None,
    cmap: str = "gray",
    size: float = 2.5,
    **imshow_kwargs,
):
    """Draw several images in a grid.

    Parameters
    ----------
    images : sequence of arrays, or array of shape (N, H, W[, C])
        The images; each as in :func:`plot_image`.
    titles : sequence of str, optional
        One title per image.
    ncols : int, optional
        Images per row (at most 5 by default); ignored when ``axes`` is given.
    axes : sequence of matplotlib Axes, optional
        Where to draw, at least one per image; a new figure when omitted.
    cmap : str, default="gray"
        Colour map for grayscale images.
    size : float, default=2.5
        Width and height in inches of each image in a new figure.
    **imshow_kwargs
        Passed to ``ax.imshow``.

    Returns
    -------
    (Figure, list of Axes)
        The figure and one axes per image.

    Examples
    --------
    >>> fig, axes = plot_images(np.zeros((3, 8, 8)), titles=["a", "b", "c"])
    >>> len(axes)
    3
    """
    images = list(images)
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles")
    fig, flat = _grid_axes(len(images), ncols, axes, size)
    for i, (image, ax) in enumerate(zip(images, flat, strict=True)):
        plot_image(
            image, ax=ax, title=None if titles is None else titles[i], cmap=cmap, **imshow_kwargs
        )
    return fig, flat


def plot_feature_maps(
    maps,
    titles=None,
    ncols: int | None = None,
    axes=None,
    cmap: str = "gray",
    size: float = 2.5,
    **imshow_kwargs,
):
    """Draw every channel of a stack of feature maps as its own grayscale image.

    Parameters
    ----------
    maps : array_like of shape (H, W, C)
        Feature maps of one image (take ``outputs[i]`` of a batch).
    titles : sequence of str, optional
        One per channel; "map 0", "map 1"... when omitted.
    ncols, axes, cmap, size, **imshow_kwargs
        As in :func:`plot_images`.

    Returns
    -------
    (Figure, list of Axes)
        The figure and one axes per channel.

    Examples
    --------
    >>> fig, axes = plot_feature_maps(np.zeros((10, 12, 4)))
    >>> [ax.get_title() for ax in axes]
    ['map 0', 'map 1', 'map 2', 'map 3']
    """
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(
            f"maps must have shape (height, width, channels), got shape {maps.shape}; "
            "for a batch, pass one image's maps, e.g. outputs[0]"
        )
    channels = [maps[:, :, c] for c in range(maps.shape[-1])]
    if titles is None:
        titles = [f"map {c}" for c in range(len(channels))]
    return plot_images(
        channels, titles=titles, ncols=ncols, axes=axes, cmap=cmap, size=size, **imshow_kwargs
    )


def plot_before_after(
    before,
    after,
    titles=("before", "after"),
    axes=None,
    cmap: str = "gray",
    size: float = 3.0,
    **imshow_kwargs,
):
    """Draw an image next to what an operation made of it (filtered, pooled, ...).

    Both images fill panels of the same size, so a smaller (pooled) image looks coarser,
    not smaller.

    Parameters
    ----------
    before, after : array_like
        Two images, each as in :func:`plot_image`.
    titles : pair of str, default=("before", "after")
        Titles of the two images.
    axes : pair of matplotlib Axes, optional
        Where to draw; a new 1x2 figure when omitted.
    cmap : str, default="gray"
        Colour map for grayscale images.
    size : float, default=3.0
        Width and height in inches of each image in a new figure.
    **imshow_kwargs
        Passed to ``ax.imshow`` (e.g. ``vmin=0, vmax=1`` to draw both on one scale).

    Returns
    -------
    (Figure, list of Axes)
        The figure and its two axes.

    Examples
    --------
    >>> fig, (ax0, ax1) = plot_before_after(np.eye(8), np.eye(4))
    >>> ax1.get_title()
    'after'
    """
    if len(titles) != 2:
        raise ValueError(f"titles must be a pair of strings, got {titles!r}")
    return plot_images(
        [before, after],
        titles=list(titles),
        ncols=2,
        axes=axes,
        cmap=cmap,
        size=size,
        **imshow_kwargs,
    )


def plot_matrix(
    values,
    ax=None,
    title: str | None = None,
    fmt: str = "g",
    cmap: str = "Blues",
    fontsize: float = 9,
):
    """Draw a small 2D array as coloured cells with each value written in its cell.

    Meant for kernels and tiny inputs (a 3x3 Sobel filter, the 4x4 pooling example).

    Parameters
    ----------
    values : array_like of shape (H, W) or (H, W, 1)
        The numbers to show.
    ax : matplotlib Axes, optional
        Where to draw; a new small figure when omitted.
    title : str, optional
        Title above the matrix.
    fmt : str, default="g"
        Format spec of each value, e.g. ``".1f"``.
    cmap : str, default="Blues"
        Colour map of the cells.
    fontsize : float, default=9
        Size of the numbers.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> ax = plot_matrix([[1, 2], [3, 4]])
    >>> [t.get_text() for t in ax.texts]
    ['1', '2', '3', '4']
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 3 and values.shape[-1] == 1:
        values = values[..., 0]
    if values.ndim != 2:
        raise ValueError(f"values must have shape (H, W), got shape {values.shape}")
    if ax is None:
        height, width = values.shape
        _, ax = plt.subplots(figsize=(0.45 * width + 0.6, 0.45 * height + 0.6))
    ax.imshow(values, cmap=cmap)
    middle = (values.max() + values.min()) / 2
    for (i, j), value in np.ndenumerate(values):
        colour = "white" if value > middle and values.max() > values.min() else "black"
        ax.text(j, i, format(value, fmt), ha="center", va="center", color=colour, fontsize=fontsize)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax
