"""Plotting helpers for the notebooks.

Conventions shared by every helper:

- it draws into an ``ax`` (one panel) or ``axes`` (several panels) you pass, or makes a new
  figure with matplotlib's constrained layout, so a ``fig.suptitle`` never overlaps the panel
  titles;
- a helper that draws one panel returns its Axes; a helper that draws a grid returns
  ``(Figure, list of Axes)``. Two older helpers keep what their callers use: ``plot_digits``
  returns the Figure and ``plot_history`` an array of Axes;
- grids are sized with ``ncols`` (images per row), as in ``plt.subplots``;
- where colour encodes a value, ``colorbar=True`` adds a colour bar, and ``shared_scale=True``
  puts all panels on one scale with one colour bar, so that panels can be compared;
- a panel whose image is all zero says so in its title instead of showing a plain square;
- text is at least 8 points; no helper calls ``plt.show()`` or changes global matplotlib
  settings.
"""

import matplotlib.pyplot as plt
import numpy as np

MIN_FONTSIZE = 8  # points; smaller text is hard to read at the notebooks' 100 dpi


def plot_digits(
    images: np.ndarray,
    labels=None,
    predictions=None,
    *,
    ncols: int = 10,
    class_names=None,
    size: float = 1.2,
    axes=None,
):
    """Show digit-like images (n, 28, 28[, 1]) in a grid, titled with their labels.

    Drawn with the "binary" colour map: 0 is white, the largest value black (dark ink on
    white paper, whatever the stored convention).

    Parameters
    ----------
    images : ndarray of shape (n, height, width) or (n, height, width, 1)
        Grey images, any value range.
    labels : array-like of int, optional
        True labels, shown above each image.
    predictions : array-like of int, optional
        Predicted labels; titles then read "true: ..." over "predicted: ..." (no "/", which
        some class names contain), in red where they differ from ``labels``.
    ncols : int, default=10
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
    >>> fig = plot_digits(np.ones((3, 28, 28)), labels=[0, 1, 2], ncols=2)
    >>> [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.images]
    ['0', '1', '2']
    """
    images = np.asarray(images)
    fig, flat = _grid_axes(len(images), max(1, min(ncols, len(images))), axes, size)
    name = (lambda k: class_names[k]) if class_names is not None else str
    for i, (image, ax) in enumerate(zip(images, flat, strict=True)):
        plot_image(image, ax=ax, cmap="binary")
        if predictions is not None and labels is not None:
            wrong = predictions[i] != labels[i]
            ax.set_title(
                f"true: {name(labels[i])}\npredicted: {name(predictions[i])}",
                fontsize=MIN_FONTSIZE,
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

    Raises
    ------
    ValueError
        If a metric is not in the history.

    Examples
    --------
    >>> axes = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, metrics=["loss"])
    >>> [line.get_ydata().tolist() for line in axes[0].lines]
    [[1.0, 0.5], [1.1, 0.7]]
    """
    values = getattr(history, "history", history)
    missing = [metric for metric in metrics if metric not in values]
    if missing:
        raise ValueError(
            f"metrics {missing} are not in the history, which has {sorted(values)}; "
            "pass metrics=... with names from that list"
        )
    if axes is None:
        _, axes = plt.subplots(
            1,
            len(metrics),
            figsize=(5 * len(metrics), 3.4),
            squeeze=False,
            layout="constrained",
        )
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
        ax.legend(fontsize=MIN_FONTSIZE)
    return axes


def plot_confusion_matrix(
    y_true,
    y_pred,
    *,
    class_names=None,
    n_classes: int | None = None,
    ax=None,
    colorbar: bool = True,
    colour_diagonal: bool = True,
):
    """Draw the confusion matrix: rows are true classes, columns predicted, counts in cells.

    The matrix always has one row and one column per class, also for classes that appear
    in neither ``y_true`` nor ``y_pred`` (their row and column are zero).

    Parameters
    ----------
    y_true, y_pred : array-like of int
        True and predicted labels, numbers from 0 to n_classes - 1.
    class_names : sequence of str, optional
        Tick labels; their number sets the number of classes.
    n_classes : int, optional
        Number of classes when ``class_names`` is not given; defaults to the largest label + 1.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made if not given.
    colorbar : bool, default=True
        Add a colour bar for the counts.
    colour_diagonal : bool, default=True
        False leaves the diagonal (the right answers) white, so that the colour scale is set
        by the mistakes; every count is still written in its cell.

    Returns
    -------
    matplotlib Axes
        The coloured matrix is ``ax.images[0].get_array()``.

    Raises
    ------
    ValueError
        If the label arrays differ in length or a label is outside 0 .. n_classes - 1.

    Examples
    --------
    >>> ax = plot_confusion_matrix([0, 1, 1], [0, 1, 0], n_classes=3)
    >>> ax.images[0].get_array().tolist()
    [[1, 0, 0], [1, 1, 0], [0, 0, 0]]
    >>> ax = plot_confusion_matrix([0, 1, 1], [0, 1, 0], n_classes=2, colour_diagonal=False)
    >>> ax.images[0].get_array().tolist(), [t.get_text() for t in ax.texts]
    ([[0, 0], [1, 0]], ['1', '1', '1'])
    """
    y_true, y_pred = np.ravel(y_true), np.ravel(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}"
        )
    if not (np.issubdtype(y_true.dtype, np.integer) and np.issubdtype(y_pred.dtype, np.integer)):
        raise ValueError(
            f"labels must be integers, got dtypes {y_true.dtype} and {y_pred.dtype}; "
            "for probabilities, pass probabilities.argmax(axis=1)"
        )
    if class_names is not None:
        if n_classes is not None and n_classes != len(class_names):
            raise ValueError(f"n_classes={n_classes} but {len(class_names)} class_names")
        n_classes = len(class_names)
    elif n_classes is None:
        n_classes = int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    labels = np.concatenate([y_true, y_pred])
    bad = labels[(labels < 0) | (labels >= n_classes)]
    if bad.size:
        raise ValueError(
            f"labels must lie in 0 .. {n_classes - 1} for {n_classes} classes, "
            f"got {sorted(set(bad.tolist()))}; pass class_names or n_classes for all classes"
        )
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (y_true, y_pred), 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    coloured = matrix.copy()
    if not colour_diagonal:
        np.fill_diagonal(coloured, 0)
    image = ax.imshow(coloured, cmap="Blues", vmin=0)
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            colour = _text_colour(image, coloured[i, j])
            ax.text(j, i, count, ha="center", va="center", fontsize=MIN_FONTSIZE, color=colour)
    names = [str(name) for name in class_names] if class_names is not None else range(n_classes)
    long_names = class_names is not None and max(len(name) for name in names) > 2
    ax.set_xticks(
        range(n_classes),
        names,
        fontsize=MIN_FONTSIZE,
        rotation=45 if long_names else 0,
        ha="right" if long_names else "center",
    )
    ax.set_yticks(range(n_classes), names, fontsize=MIN_FONTSIZE)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    if colorbar:
        label = "count" if colour_diagonal else "count of mistakes (diagonal: white)"
        ax.figure.colorbar(image, ax=ax, label=label)
    return ax


def _text_colour(image, value) -> str:
    """White on dark cells, black on light ones, judged from the cell's drawn colour."""
    red, green, blue, _ = image.cmap(image.norm(value))
    return "white" if 0.299 * red + 0.587 * green + 0.114 * blue < 0.5 else "black"


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
    if n < 1:
        raise ValueError("there are no images to draw; pass at least one")
    if axes is not None:
        flat = list(np.ravel(axes))
        if len(flat) < n:
            raise ValueError(f"need at least {n} axes to draw {n} images, got {len(flat)}")
        return flat[0].figure, flat[:n]
    ncols = min(n, 5) if ncols is None else ncols
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    nrows = -(-n // ncols)
    fig, grid = plt.subplots(
        nrows,
        ncols,
        figsize=(size * ncols, size * nrows),
        squeeze=False,
        layout="constrained",
    )
    flat = list(grid.ravel())
    for ax in flat[n:]:
        ax.axis("off")
    return fig, flat[:n]


def plot_image(
    image,
    ax=None,
    title: str | None = None,
    cmap: str = "gray",
    *,
    colorbar: bool = False,
    **imshow_kwargs,
):
    """Draw one image without axis ticks.

    An image that is zero everywhere gets "(all zero)" added to its title.

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
    colorbar : bool, default=False
        Add a colour bar beside a grayscale image.
    **imshow_kwargs
        Passed to ``ax.imshow`` (``vmin``, ``vmax``, ``interpolation``...).

    Returns
    -------
    matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> plot_image(np.eye(4), title="identity").get_title()
    'identity'
    >>> plot_image(np.zeros((4, 4)), title="map 2").get_title()
    'map 2 (all zero)'
    """
    image = _as_2d_or_rgb(image)
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3), layout="constrained")
    drawn = ax.imshow(image, cmap=cmap if image.ndim == 2 else None, **imshow_kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if not np.any(image):
        title = "all zero" if title is None else f"{title} (all zero)"
    if title is not None:
        ax.set_title(title)
    if colorbar and image.ndim == 2:
        ax.figure.colorbar(drawn, ax=ax)
    return ax


def plot_images(
    images,
    titles=None,
    ncols: int | None = None,
    axes=None,
    cmap: str = "gray",
    size: float = 2.5,
    *,
    colorbar: bool = False,
    shared_scale: bool = False,
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
    colorbar : bool, default=False
        Add colour bars for the grayscale images: one per image, or one for all of them
        with ``shared_scale``.
    shared_scale : bool, default=False
        Draw all grayscale images on one scale, from the smallest to the largest value of
        them all (unless ``vmin``/``vmax`` are given), so that equal colours mean equal values.
    **imshow_kwargs
        Passed to ``ax.imshow``.

    Returns
    -------
    (Figure, list of Axes)
        The figure and one axes per image.

    Examples
    --------
    >>> fig, axes = plot_images([np.full((2, 2), 1.0), np.full((2, 2), 3.0)], shared_scale=True)
    >>> [ax.images[0].get_clim() for ax in axes]
    [(1.0, 3.0), (1.0, 3.0)]
    """
    images = [_as_2d_or_rgb(image) for image in images]
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles")
    gray = [image for image in images if image.ndim == 2]
    if shared_scale and gray:
        imshow_kwargs.setdefault("vmin", min(float(image.min()) for image in gray))
        imshow_kwargs.setdefault("vmax", max(float(image.max()) for image in gray))
    fig, flat = _grid_axes(len(images), ncols, axes, size)
    for i, (image, ax) in enumerate(zip(images, flat, strict=True)):
        plot_image(
            image,
            ax=ax,
            title=None if titles is None else titles[i],
            cmap=cmap,
            colorbar=colorbar and not shared_scale,
            **imshow_kwargs,
        )
    if colorbar and shared_scale and gray:
        drawn = next(
            ax.images[0] for ax, image in zip(flat, images, strict=True) if image.ndim == 2
        )
        fig.colorbar(drawn, ax=flat)
    return fig, flat


def plot_feature_maps(
    maps,
    titles=None,
    ncols: int | None = None,
    axes=None,
    cmap: str = "gray",
    size: float = 2.5,
    *,
    colorbar: bool = False,
    shared_scale: bool = False,
    **imshow_kwargs,
):
    """Draw every channel of a stack of feature maps as its own grayscale image.

    Parameters
    ----------
    maps : array_like of shape (H, W, C)
        Feature maps of one image (take ``outputs[i]`` of a batch).
    titles : sequence of str, optional
        One per channel; "map 0", "map 1"... when omitted.
    ncols, axes, cmap, size, colorbar, shared_scale, **imshow_kwargs
        As in :func:`plot_images`.

    Returns
    -------
    (Figure, list of Axes)
        The figure and one axes per channel.

    Examples
    --------
    >>> fig, axes = plot_feature_maps(np.ones((10, 12, 3)))
    >>> [ax.get_title() for ax in axes]
    ['map 0', 'map 1', 'map 2']
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
        channels,
        titles=titles,
        ncols=ncols,
        axes=axes,
        cmap=cmap,
        size=size,
        colorbar=colorbar,
        shared_scale=shared_scale,
        **imshow_kwargs,
    )


def plot_before_after(
    before,
    after,
    titles=("before", "after"),
    axes=None,
    cmap: str = "gray",
    size: float = 3.0,
    *,
    real_size: bool = True,
    **imshow_kwargs,
):
    """Draw an image next to what an operation made of it (filtered, pooled, ...).

    With ``real_size`` (the default) one pixel has the same size in both panels, so a
    pooled image looks smaller, as it is: a new figure gets panels as wide as the images,
    and given axes show both images on the larger one's extent (the smaller image fills
    the top-left part of its panel).

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
        Width and height in inches of the larger image in a new figure.
    real_size : bool, default=True
        Draw pixels at the same size in both panels; False stretches each image to fill
        its panel.
    **imshow_kwargs
        Passed to ``ax.imshow`` (e.g. ``vmin=0, vmax=1`` to draw both on one scale).

    Returns
    -------
    (Figure, list of Axes)
        The figure and its two axes.

    Examples
    --------
    >>> fig, (ax0, ax1) = plot_before_after(np.eye(8), np.eye(4))
    >>> fig.canvas.draw()  # lay the figure out
    >>> widths = [ax.get_window_extent().width for ax in (ax0, ax1)]
    >>> ax1.get_title(), f"{widths[1] / widths[0]:.2f}"  # half the pixels, half the width
    ('after', '0.50')
    """
    if len(titles) != 2:
        raise ValueError(f"titles must be a pair of strings, got {titles!r}")
    pair = [_as_2d_or_rgb(before), _as_2d_or_rgb(after)]
    height = max(image.shape[0] for image in pair)
    width = max(image.shape[1] for image in pair)
    given = axes is not None
    if real_size and not given:
        widths = [image.shape[1] for image in pair]
        _, axes = plt.subplots(
            1,
            2,
            figsize=(size * sum(widths) / width + 0.4, size * height / width + 0.7),
            width_ratios=widths,
            layout="constrained",
        )
    fig, flat = plot_images(
        pair, titles=list(titles), ncols=2, axes=axes, cmap=cmap, size=size, **imshow_kwargs
    )
    for ax in flat:
        if real_size and given:
            ax.set_xlim(-0.5, width - 0.5)
            ax.set_ylim(height - 0.5, -0.5)
        elif real_size:
            ax.set_anchor("N")  # top-aligned panels of different heights
    return fig, flat


def plot_matrix(
    values,
    ax=None,
    title: str | None = None,
    fmt: str = "g",
    cmap: str = "Blues",
    fontsize: float = 9,
    *,
    vmin: float | None = None,
    vmax: float | None = None,
):
    """Draw a small 2D array as coloured cells with each value written in its cell.

    Meant for kernels and tiny inputs (a 3x3 Sobel filter, the 4x4 pooling example). The
    numbers carry the values, so there is no colour bar.

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
        Size of the numbers in points, at least 8 (make the figure larger for more room).
    vmin, vmax : float, optional
        Colour scale limits; by default the matrix's own smallest and largest values. Give
        several matrices the same limits (and one colour bar) to compare them by colour.

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
    if fontsize < MIN_FONTSIZE:
        raise ValueError(
            f"fontsize {fontsize} is too small to read; use at least {MIN_FONTSIZE} "
            "and a larger figure if the numbers do not fit"
        )
    if ax is None:
        height, width = values.shape
        _, ax = plt.subplots(
            figsize=(0.45 * width + 0.6, 0.45 * height + 0.6), layout="constrained"
        )
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    for (i, j), value in np.ndenumerate(values):
        colour = _text_colour(image, value)
        ax.text(j, i, format(value, fmt), ha="center", va="center", color=colour, fontsize=fontsize)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax
