"""lstmkit: LSTM sequence modelling on one PyTorch core."""

from importlib.metadata import PackageNotFoundError, version

from lstmkit.errors import UserError

try:
    __version__ = version("lstmkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["UserError", "__version__"]
