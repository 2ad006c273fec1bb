"""The course's models and data loading written plainly: the baseline every benchmark compares to.

This module never imports cnnkit, so a worker that runs it keeps TensorFlow's default
environment (whatever ``TF_ENABLE_ONEDNN_OPTS`` TensorFlow picks for the CPU by itself).
The models are the same architectures as ``cnnkit.models.mnist_cnn`` and
``cnnkit.models.resnet34``, written the way Géron's chapter 14 writes them
(with ``keras.Input`` first, as Keras 3 wants).
"""

import numpy as np
import pandas as pd


def load_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """Load a digit CSV as Géron's chapter 14 does: pandas, then ``.values / 255``, reshape.

    Returns float64 images of shape (n, 28, 28, 1) in [0, 1] and int64 labels.
    """
    data = pd.read_csv(path, header=None)
    y = data[0].values
    X = (data.drop(columns=[0]).values / 255).reshape(-1, 28, 28, 1)
    return X, y


def mnist_cnn():
    """Notebook 03's small CNN, written plainly."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.MaxPool2D(2),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def resnet34(bn_momentum: float = 0.99):
    """ResNet-34 as in Géron's book (chapter 14), with ``keras.Input`` first.

    ``bn_momentum`` is Keras' default (0.99) unless the benchmark sets it for both sides.
    """
    from functools import partial

    import keras

    DefaultConv2D = partial(
        keras.layers.Conv2D, kernel_size=3, strides=1, padding="same", use_bias=False
    )

    class ResidualUnit(keras.layers.Layer):
        def __init__(self, filters, strides=1, activation="relu", **kwargs):
            super().__init__(**kwargs)
            self.activation = keras.activations.get(activation)
            self.main_layers = [
                DefaultConv2D(filters, strides=strides),
                keras.layers.BatchNormalization(momentum=bn_momentum),
                self.activation,
                DefaultConv2D(filters),
                keras.layers.BatchNormalization(momentum=bn_momentum),
            ]
            self.skip_layers = []
            if strides > 1:
                self.skip_layers = [
                    DefaultConv2D(filters, kernel_size=1, strides=strides),
                    keras.layers.BatchNormalization(momentum=bn_momentum),
                ]

        def call(self, inputs):
            Z = inputs
            for layer in self.main_layers:
                Z = layer(Z)
            skip_Z = inputs
            for layer in self.skip_layers:
                skip_Z = layer(skip_Z)
            return self.activation(Z + skip_Z)

    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            DefaultConv2D(64, kernel_size=7, strides=2),
            keras.layers.BatchNormalization(momentum=bn_momentum),
            keras.layers.Activation("relu"),
            keras.layers.MaxPool2D(pool_size=3, strides=2, padding="same"),
        ]
    )
    prev_filters = 64
    for filters in [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3:
        strides = 1 if filters == prev_filters else 2
        model.add(ResidualUnit(filters, strides=strides))
        prev_filters = filters
    model.add(keras.layers.GlobalAvgPool2D())
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model


def compile_model(model, jit_compile="auto") -> None:
    """Compile as Géron's chapter 14 does: Nadam, sparse categorical cross-entropy, accuracy."""
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer="nadam",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
