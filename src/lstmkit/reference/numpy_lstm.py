"""A multi-layer LSTM in NumPy: forward pass and backpropagation through time, by hand.

A teaching aid to read next to the equations, and the test oracle for ``lstmkit.nn``. It follows
torch's layout (gate order i, f, g, o; two bias vectors; state (L, B, H)) so that weights copied out
of ``torch.nn.LSTM`` give the same numbers. Unidirectional, no projection: the point is clarity.

Symbol key: B batch, T timesteps, F input features, H hidden size, L layers.

Forward, for each layer and step (z are the pre-activations, W_ih = [W_ii; W_if; W_ig; W_io])::

    z   = x_t W_ih^T + h_tm1 W_hh^T + b_ih + b_hh            (B, 4H)
    i, f, g, o = sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)
    c_t = f * c_tm1 + i * g
    h_t = o * tanh(c_t)

Backward, walking t = T-1 .. 0 with dh = dL/dh_t (from the output and from step t+1) and
dc_next = dL/dc_t arriving from step t+1::

    do  = dh * tanh(c_t)
    dc  = dc_next + dh * o * (1 - tanh(c_t)^2)
    di, df, dg = dc * g, dc * c_tm1, dc * i
    dz  = [di * i(1-i), df * f(1-f), dg * (1-g^2), do * o(1-o)]
    dW_ih += dz^T x_t ; dW_hh += dz^T h_tm1 ; db += sum_B dz
    dx_t = dz W_ih ; dh_tm1 = dz W_hh ; dc_tm1 = dc * f

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> params = init_params(input_size=3, hidden_size=5, num_layers=2, rng=rng)
    >>> y, (h_n, c_n), cache = lstm_forward(rng.normal(size=(4, 7, 3)), params)
    >>> grads, dx, dh0, dc0 = lstm_backward(np.ones_like(y), np.zeros_like(h_n), np.zeros_like(c_n), cache)
    >>> y.shape, grads[1]["weight_hh"].shape
    ((4, 7, 5), (20, 5))
"""

from __future__ import annotations

import numpy as np

Params = list[dict[str, np.ndarray]]  # one dict per layer: weight_ih, weight_hh, bias_ih, bias_hh


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # the same function as 1/(1+e^-z), without overflow


def init_params(input_size: int, hidden_size: int, num_layers: int, rng: np.random.Generator) -> Params:
    """torch's initialisation: every entry U(-1/sqrt(H), 1/sqrt(H))."""
    bound = hidden_size**-0.5
    params = []
    for layer in range(num_layers):
        fan_in = input_size if layer == 0 else hidden_size
        shapes = {
            "weight_ih": (4 * hidden_size, fan_in),
            "weight_hh": (4 * hidden_size, hidden_size),
            "bias_ih": (4 * hidden_size,),
            "bias_hh": (4 * hidden_size,),
        }
        params.append({name: rng.uniform(-bound, bound, size=shape) for name, shape in shapes.items()})
    return params


def params_from_state_dict(state_dict) -> Params:
    """Per-layer parameters from a plain ``torch.nn.LSTM`` state_dict (tensors or arrays)."""
    known = ("weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l")
    other = [name for name in state_dict if not name.startswith(known) or name.endswith("_reverse")]
    if other:
        raise ValueError(f"the NumPy reference covers plain unidirectional LSTMs with biases; it cannot use {other}")
    layers = 1 + max(int(name.rsplit("_l", 1)[1]) for name in state_dict)
    return [
        {name: np.asarray(state_dict[f"{name}_l{layer}"], dtype=np.float64) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        for layer in range(layers)
    ]


def lstm_forward(x: np.ndarray, params: Params, h0: np.ndarray | None = None, c0: np.ndarray | None = None):
    """Run the stack over x (B, T, F).

    Returns y (B, T, H) the top layer's outputs, (h_n, c_n) each (L, B, H), and the cache backward needs.
    """
    batch, steps, _ = x.shape
    hidden = params[0]["weight_hh"].shape[1]
    shape = (len(params), batch, hidden)
    h0 = np.zeros(shape) if h0 is None else h0
    c0 = np.zeros(shape) if c0 is None else c0
    cache, h_n, c_n = [], [], []
    layer_input = x
    for layer, p in enumerate(params):
        h, c = h0[layer], c0[layer]
        saved = {name: np.empty((batch, steps, hidden)) for name in ("i", "f", "g", "o", "c", "h")}
        for t in range(steps):
            z = layer_input[:, t] @ p["weight_ih"].T + h @ p["weight_hh"].T + p["bias_ih"] + p["bias_hh"]
            z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
            i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
            c = f * c + i * g
            h = o * np.tanh(c)
            for name, value in zip("ifgoch", (i, f, g, o, c, h)):
                saved[name][:, t] = value
        cache.append({"x": layer_input, "h0": h0[layer], "c0": c0[layer], "params": p, **saved})
        h_n.append(h)
        c_n.append(c)
        layer_input = saved["h"]
    return layer_input, (np.stack(h_n), np.stack(c_n)), cache


def lstm_backward(dy: np.ndarray, dh_n: np.ndarray, dc_n: np.ndarray, cache):
    """Backpropagation through time.

    Args: dy (B, T, H) dL/dy; dh_n, dc_n (L, B, H) dL/dh_n and dL/dc_n; cache from ``lstm_forward``.
    Returns: per-layer gradients (dicts with torch's names), dx (B, T, F), dh0 and dc0 (L, B, H).
    """
    grads: Params = [{} for _ in cache]
    dh0, dc0 = np.empty_like(dh_n), np.empty_like(dc_n)
    d_output = dy  # dL/d(this layer's outputs), from the layer above or the loss
    for layer in reversed(range(len(cache))):
        s = cache[layer]
        w_ih, w_hh = s["params"]["weight_ih"], s["params"]["weight_hh"]
        d_w_ih, d_w_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
        d_b = np.zeros(w_ih.shape[0])
        d_input = np.zeros_like(s["x"])
        dh_next, dc_next = dh_n[layer], dc_n[layer]
        for t in reversed(range(s["x"].shape[1])):
            i, f, g, o, c = (s[name][:, t] for name in "ifgoc")
            c_tm1 = s["c"][:, t - 1] if t > 0 else s["c0"]
            h_tm1 = s["h"][:, t - 1] if t > 0 else s["h0"]
            tanh_c = np.tanh(c)
            dh = d_output[:, t] + dh_next
            do = dh * tanh_c
            dc = dc_next + dh * o * (1.0 - tanh_c**2)
            di, df, dg = dc * g, dc * c_tm1, dc * i
            dz = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1)
            d_w_ih += dz.T @ s["x"][:, t]
            d_w_hh += dz.T @ h_tm1
            d_b += dz.sum(axis=0)
            d_input[:, t] = dz @ w_ih
            dh_next, dc_next = dz @ w_hh, dc * f
        grads[layer] = {"weight_ih": d_w_ih, "weight_hh": d_w_hh, "bias_ih": d_b, "bias_hh": d_b.copy()}
        dh0[layer], dc0[layer] = dh_next, dc_next
        d_output = d_input
    return grads, d_output, dh0, dc0
