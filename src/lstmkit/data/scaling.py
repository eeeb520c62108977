"""Per-column affine scalers, fitted on training rows only and saved as JSON with the model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmkit.errors import UserError

KINDS = ("standard", "minmax", "none")


@dataclass
class Scaler:
    """``scaled = (x - shift) / scale`` per column. Symbol key: N rows, C columns.

    "standard": shift = mean, scale = standard deviation; "minmax": shift = min, scale = max - min
    (the tutorials' MinMaxScaler to [0, 1]); "none": the identity. A column that is constant up to
    rounding error gets scale 1 (scikit-learn's rules).

    Examples:
        >>> s = Scaler.fit(np.array([[0.0], [2.0], [4.0]]), "minmax")
        >>> s.transform(np.array([[1.0]])).tolist(), s.inverse_transform(np.array([[0.5]])).tolist()
        ([[0.25]], [[2.0]])
    """

    kind: str
    shift: np.ndarray  # (C,)
    scale: np.ndarray  # (C,)

    @classmethod
    def fit(cls, values: np.ndarray, kind: str = "standard") -> Scaler:
        if kind not in KINDS:
            raise UserError(f"scaler must be one of {', '.join(KINDS)}, got {kind!r}")
        values = np.asarray(values, dtype=np.float64)
        eps, n = np.finfo(np.float64).eps, len(values)
        if kind == "standard":
            shift, var = values.mean(axis=0), values.var(axis=0)
            # constant when the variance is within the rounding error of computing it (scikit-learn's bound)
            constant = var <= n * eps * var + (n * shift * eps) ** 2
            scale = np.where(constant, 1.0, np.sqrt(var))
        elif kind == "minmax":
            shift, spread = values.min(axis=0), values.max(axis=0) - values.min(axis=0)
            scale = np.where(spread < 10 * eps, 1.0, spread)
        else:
            shift, scale = np.zeros(values.shape[1]), np.ones(values.shape[1])
        return cls(kind, shift, scale)

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - self.shift) / self.scale

    def inverse_transform(self, values: np.ndarray) -> np.ndarray:
        return values * self.scale + self.shift

    def to_dict(self) -> dict:
        return {"kind": self.kind, "shift": self.shift.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict, columns: int) -> Scaler:
        """The scaler ``to_dict`` saved for ``columns`` columns, checked (a UserError names a bad field)."""
        from lstmkit.checks import saved

        kind = saved(d, "kind", str, lambda k: k in KINDS, f"one of {', '.join(KINDS)}")
        shift = saved(d, "shift", list[float], lambda v: len(v) == columns, f"{columns} finite numbers")
        scale = saved(d, "scale", list[float], lambda v: len(v) == columns and min(v) > 0, f"{columns} positive numbers")
        return cls(kind, np.asarray(shift, dtype=np.float64), np.asarray(scale, dtype=np.float64))
