"""Model builders for the course. Each returns an uncompiled Keras model."""

import keras
from keras import layers


def mnist_cnn(input_shape: tuple[int, int, int] = (28, 28, 1), n_classes: int = 10) -> keras.Model:
    """Build notebook 03's small CNN for 28x28 digit images.

    Conv2D(32, 3, same, relu) -> Conv2D(64, 3, same, relu) -> MaxPool2D(2) -> Flatten ->
    Dropout(0.25) -> Dense(128, relu) -> Dropout(0.5) -> Dense(n_classes, softmax).
    For 28x28x1 input and 10 classes it has 1,625,866 parameters.

    Parameters
    ----------
    input_shape : tuple of int, default=(28, 28, 1)
        Height, width and channels of one image.
    n_classes : int, default=10
        Number of output classes.

    Returns
    -------
    keras.Sequential
        The uncompiled model.

    Examples
    --------
    >>> model = mnist_cnn()
    >>> model.count_params()
    1625866
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPool2D(2),
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(n_classes, activation="softmax"),
        ],
        name="mnist_cnn",
    )
