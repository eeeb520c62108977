"""``lstmkit anomaly detect``."""

from __future__ import annotations

from pathlib import Path

import typer

from lstmkit.cli.common import JSON_OPTION, OVERWRITE_OPTION, finish, prepare_out, training_flags, write_csv, write_run
from lstmkit.cli.forecast import DATA, FILL, TIME
from lstmkit.tasks.defaults import forecast_training

app = typer.Typer(help="Flag points a forecaster did not expect.", no_args_is_help=True)


@app.command("detect")
@training_flags(forecast_training)
def detect(
    data: str = DATA,
    target: str = typer.Option(None, "--target", help="The column to watch. Default: the dataset's target."),
    time: str = TIME,
    fill: str = FILL,
    threshold: float = typer.Option(5.0, help="Robust z-score of the 1-step residual above which a point is flagged."),
    train_fraction: float = typer.Option(0.5, "--train-fraction", help="Leading share of rows to learn normal behaviour from."),
    labels: str = typer.Option(None, "--labels", help="A 0/1 column of known anomalies: report precision and recall."),
    out: Path = typer.Option(
        None,
        "--out",
        help="Run directory: the detector (reusable with Python's AnomalyDetector.load), anomalies.csv, anomalies.png, metrics.json.",
    ),
    overwrite: bool = OVERWRITE_OPTION,
    as_json: bool = JSON_OPTION,
    training=None,
) -> None:
    """Train a 1-step forecaster on the first rows and flag points with outsized residuals.

    Example: lstmkit anomaly detect --data sensor.csv --target temp --out runs/sensor
    """
    from lstmkit.evaluation.metrics import precision_recall
    from lstmkit.tasks.anomaly import AnomalyConfig, AnomalyDetector, read_labelled
    from lstmkit.viz.plots import plot_anomalies

    if out is not None:
        prepare_out(out, training, overwrite)
    elif training.resume:
        from lstmkit.errors import UserError

        raise UserError("--resume continues a run directory: give its --out")
    config = AnomalyConfig(
        threshold=threshold, train_fraction=train_fraction, target=target, time_column=time, fill=fill, training=training
    )
    detector = AnomalyDetector(config)
    series, truth = read_labelled(data, labels, target, time, fill) if labels is not None else (detector.read(data), None)
    detector.fit(series)
    result = detector.predict()
    found = result[result["anomaly"]]
    history = detector.history
    report = {
        "rows": len(result),
        "anomalies": len(found),
        **detector.settings(),
        "interrupted": history is not None and history.interrupted,
    }
    if truth is not None:
        report.update(precision_recall(result["anomaly"].to_numpy(), truth > 0))
    report["flagged"] = [{"at": str(i), "value": r.value, "expected": r.expected, "score": r.score} for i, r in found.iterrows()]
    if out is not None:
        write_csv(out / "anomalies.csv", result)

        def plots() -> dict:
            train_end = result.index[int(len(result) * train_fraction) - 1]
            path = out / "anomalies.png"
            plot_anomalies(
                path,
                f"{data}: {series.targets[0]}",
                result.index,
                result["value"].to_numpy(),
                result["expected"].to_numpy(),
                result["anomaly"].to_numpy(),
                train_end,
            )
            return {"anomalies": str(path)}

        report = write_run(out, detector, report, plots)
    finish(report, as_json, lambda: _text(report, found, len(result), threshold, train_fraction, labels, out))


def _text(report: dict, found, rows: int, threshold: float, train_fraction: float, labels, out) -> None:
    print(
        f"{len(found)} of {rows} points flagged (robust z > {threshold:g}; normal behaviour learned "
        f"from the first {train_fraction:.0%} of rows)"
    )
    if len(found):
        print(found[["value", "expected", "score"]].to_string(float_format=lambda v: f"{v:.4g}"))
    if labels is not None:
        p, r = report["precision"], report["recall"]
        print(f"against --labels {labels}: precision {'-' if p is None else f'{p:.3f}'}, recall {'-' if r is None else f'{r:.3f}'}")
    if out is not None:
        print(f"run directory: {out}\ntable: {out / 'anomalies.csv'}\nplot: {report['plots']['anomalies']}")
        print(f"report: {report['report']}")
