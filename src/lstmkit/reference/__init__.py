"""Readable reference implementations, used as teaching aids and test oracles."""

from lstmkit.reference.numpy_lstm import init_params, lstm_backward, lstm_forward, params_from_state_dict

__all__ = ["init_params", "lstm_backward", "lstm_forward", "params_from_state_dict"]
