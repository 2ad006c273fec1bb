"""Count a built Keras model's multiply-accumulates (MACs) per image, layer by layer.

Conv2D and Dense layers are counted from their built shapes, walking nested sublayers too
(``cnnkit.layers.ResidualUnit`` and the baseline's ResidualUnit hold their convolutions as
sublayers). Other layers (batch norm, activations, pooling, additions) are a few percent
of the work and are left out. Forward FLOPs = 2 x MACs; a training step costs about three
forward passes (the forward pass, and the gradients with respect to inputs and weights).

Two counts are returned for convolutions:

- ``nominal``: the usual convention, out_h x out_w x k_h x k_w x c_in x c_out, that is
  every kernel tap, also those that fall on "same" padding.
- ``data``: only the taps that land on real input pixels (on a 1x1 map, a 3x3 "same"
  convolution has one such tap of nine). This is the arithmetic an exact implementation
  must do; the gap to ``nominal`` is work that can be skipped.
"""


def _taps_on_data(in_size: int, out_size: int, kernel: int, stride: int, padding: str) -> int:
    """Sum over output positions of the kernel taps that land inside the input."""
    if padding == "same":
        pad_total = max((out_size - 1) * stride + kernel - in_size, 0)
        pad_before = pad_total // 2
    else:
        pad_before = 0
    total = 0
    for o in range(out_size):
        start = o * stride - pad_before
        total += sum(1 for k in range(kernel) if 0 <= start + k < in_size)
    return total


def _input_shape(layer):
    shapes = getattr(layer, "_build_shapes_dict", None)
    if not shapes:
        return None
    return tuple(next(iter(shapes.values())))


def _walk(layer, seen):
    if id(layer) in seen:
        return
    seen.add(id(layer))
    yield layer
    for sub in getattr(layer, "_layers", []) or []:
        yield from _walk(sub, seen)


def count_macs(model) -> dict:
    """Return ``{"nominal": MACs, "data": MACs, "layers": n}`` per image, forward pass."""
    import keras

    nominal = data = 0
    n_layers = 0
    for layer in _walk(model, set()):
        shape = _input_shape(layer)
        if shape is None:
            continue
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_in = shape
            _, oh, ow, c_out = layer.compute_output_shape(shape)
            kh, kw = layer.kernel_size
            sh, sw = layer.strides
            per_tap = c_in // layer.groups * c_out
            nominal += oh * ow * kh * kw * per_tap
            data += (
                _taps_on_data(h, oh, kh, sh, layer.padding)
                * _taps_on_data(w, ow, kw, sw, layer.padding)
                * per_tap
            )
            n_layers += 1
        elif isinstance(layer, keras.layers.Dense):
            rows = 1
            for d in shape[1:-1]:
                rows *= d
            macs = rows * shape[-1] * layer.units
            nominal += macs
            data += macs
            n_layers += 1
    return {"nominal": int(nominal), "data": int(data), "layers": n_layers}
