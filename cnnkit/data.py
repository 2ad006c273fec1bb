"""Data for the course: sample images, digit CSV files, MNIST download, IDX conversion."""

import numpy as np


def load_sample_images() -> np.ndarray:
    """Load scikit-learn's two sample photographs as one float batch.

    The images are china.jpg and flower.jpg, which ship with scikit-learn (no download).

    Returns
    -------
    ndarray of shape (2, 427, 640, 3), dtype float32
        RGB values scaled to [0, 1]; index 0 is china.jpg, index 1 is flower.jpg.

    Examples
    --------
    >>> images = load_sample_images()
    >>> images.shape, images.dtype
    ((2, 427, 640, 3), dtype('float32'))
    """
    from sklearn.datasets import load_sample_images as _sklearn_sample_images

    images = _sklearn_sample_images()["images"]
    return np.stack(images).astype(np.float32) / 255.0
