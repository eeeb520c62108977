"""``lstmkit forecast train | predict | evaluate | backtest``."""

from __future__ import annotations

from pathlib import Path

import typer

from lstmkit.cli.common import (
    JSON_OPTION,
    OUT_OPTION,
    OVERWRITE_OPTION,
    emit,
    finish,
    lead_process,
    prepare_out,
    task_config,
    train_run,
    training_flags,
    write_csv,
)
from lstmkit.errors import UserError
from lstmkit.tasks.defaults import forecast_training

app = typer.Typer(help="Forecast time series with LSTM/GRU models, measured against baselines.", no_args_is_help=True)

DATA = typer.Option(..., "--data", help="A bundled dataset name (lstmkit datasets list) or a CSV/Parquet file.")
TARGET = typer.Option(None, "--target", help="Column to forecast; repeat for several. Default: the dataset's target.")
COVARIATE = typer.Option(None, "--covariate", help="Past covariate column (known up to the forecast origin); repeatable.")
FUTURE_COVARIATE = typer.Option(
    None,
    "--future-covariate",
    help="Column known ahead (a planned promotion, a weather forecast): read for the forecast steps too; predict then needs "
    "--future. Repeatable.",
)
CALENDAR = typer.Option(
    None, "--calendar", help="Calendar features of the time column read for every step, comma-separated: hour, weekday, month, dayofyear."
)
TIME = typer.Option(None, "--time", help="Time column. Default: a datetime column or one named date/time/timestamp.")
FILL = typer.Option(
    None, "--fill", help="Missing values: ffill (causal), interpolate (reads the next observed value), drop or zero. Default: refuse them."
)
SEASON = typer.Option(None, "--season", help="Seasonal period in rows. Default: from the time column's frequency.")
HORIZON = typer.Option(1, help="Steps to forecast from each origin.")
LOOKBACK = typer.Option(None, help="Input steps. Default: three seasonal periods, within 8..200.")
HIDDEN = typer.Option(None, "--hidden-size", help="Units per layer (default 64).")
LAYERS = typer.Option(None, "--layers", help="Stacked recurrent layers (default 1).")
DROPOUT = typer.Option(None, help="Dropout on the encoder's final state and between stacked layers (default 0).")
CELL = typer.Option(None, help="lstm or gru.")
STRATEGY = typer.Option(None, help="direct (default), recursive or seq2seq.")
LOSS = typer.Option(None, help="The point forecast's training loss: mse (default) or mae (the median, what MASE scores).")
ID_COLUMN = typer.Option(
    None, "--id-column", help="A long table of many series: the column naming each row's series; trains one global model."
)
IDS = typer.Option(None, "--id", help="Only this series of a panel model; repeatable. Default: every series.")
COMBINED = {
    "median": "the median of the network's, AutoETS's and AutoARIMA's forecasts (--combine median)",
    "arima": "the mean of the network's and AutoARIMA's forecasts (--combine arima)",
}
COMBINE = typer.Option(
    None,
    help="median: the forecast is the median of the network's, AutoETS's and AutoARIMA's; arima: the mean of "
    "the network's and AutoARIMA's; none: the network alone. Default auto: median when there are no covariates.",
)


def forecast_config(
    training, target, covariate, time, fill, season, layers, quantiles: str | None = None, id_column=None, calendar=None, **options
):
    """A ForecasterConfig (a PanelConfig with an id column) from CLI values (None: the default); the data
    flags renamed to the config's fields."""
    from lstmkit.tasks.forecast import ForecasterConfig
    from lstmkit.tasks.panel import PanelConfig

    levels = None
    if quantiles:
        try:
            levels = [float(q) for q in quantiles.split(",")]
        except ValueError:
            raise UserError(f"--quantiles must be comma-separated numbers like 0.1,0.9, got {quantiles!r}") from None
    return task_config(
        PanelConfig if id_column else ForecasterConfig,
        training,
        id_column=id_column,
        targets=target or None,
        covariates=covariate or None,
        time_column=time,
        fill=fill,
        season=season,
        num_layers=layers,
        quantiles=levels,
        calendar=[name.strip() for name in calendar.split(",")] if calendar else None,
        **options,
    )


def metrics_table(result: dict, title: str) -> str:
    """The model's and the baselines' errors, one method per row."""

    def cell(value, width: int, digits: int = 3) -> str:
        text = "-" if value is None else f"{value:.{digits}g}"
        return f"{text:>{width}}" if len(text) < width else f" {text}"  # a value as wide as its column (2.99e-14) keeps a space

    lines = [title, f"{'method':<16}{'MAE':>11}{'RMSE':>11}{'MAPE%':>9}{'sMAPE%':>9}{'MASE':>8}"]
    for name, m in result["metrics"].items():
        lines.append(
            f"{name:<16}{cell(m['mae'], 11, 4)}{cell(m['rmse'], 11, 4)}{cell(m['mape'], 9)}{cell(m['smape'], 9)}{cell(m['mase'], 8)}"
        )
    if "network" in result["metrics"]:
        lines.append(f"model: {COMBINED[result['combine']]}; network: the LSTM or GRU alone")
    if result.get("skill") is not None:
        metric = result.get("skill_metric", "rmse").upper()
        lines.append(
            f"skill vs best baseline ({result['best_baseline']}): {result['skill']:+.1%} in {metric} (positive: the model is better)"
        )
    if "beats" in result:
        shares = ", ".join(f"{name} {share:.0%}" for name, share in result["beats"].items() if share is not None)
        lines.append(f"series where the model's MASE is lower: {shares} (of {result['series']}; errors above are means over the series)")
    if "interval" in result:
        lo, hi = result["interval"]["levels"]
        lines.append(f"{lo:g}-{hi:g} interval coverage on test: {result['interval']['coverage']:.1%} (nominal {hi - lo:.0%})")
    if "warning" in result:
        lines.append(f"warning: {result['warning']}")
    return "\n".join(lines)


def _describe(result: dict, series_name: str) -> str:
    if "per_series" in result:
        counts = f"{result['series']} series, horizon {result['horizon']}, {result['origins']} forecast origins"
        return f"{series_name}: {counts}, season {result['season']}"
    return (
        f"{series_name}: horizon {result['horizon']}, {result['origins']} forecast origins "
        f"{result['first_origin']} .. {result['last_origin']}, season {result['season']}"
    )


@app.command("train")
@training_flags(forecast_training)
def train(
    data: str = DATA,
    target: list[str] = TARGET,
    covariate: list[str] = COVARIATE,
    future_covariate: list[str] = FUTURE_COVARIATE,
    calendar: str = CALENDAR,
    time: str = TIME,
    fill: str = FILL,
    season: int = SEASON,
    id_column: str = ID_COLUMN,
    out: Path = OUT_OPTION,
    horizon: int = HORIZON,
    lookback: int = LOOKBACK,
    hidden_size: int = HIDDEN,
    layers: int = LAYERS,
    dropout: float = DROPOUT,
    cell: str = CELL,
    bidirectional: bool = typer.Option(None, "--bidirectional/--no-bidirectional", help="Read the window both ways."),
    strategy: str = STRATEGY,
    combine: str = COMBINE,
    loss: str = LOSS,
    quantiles: str = typer.Option(None, help="Comma-separated levels for prediction intervals, e.g. 0.1,0.9."),
    scaler: str = typer.Option(None, help="standard (default), minmax or none; fitted on training rows only."),
    test_fraction: float = typer.Option(None, "--test-fraction", help="Share of rows held out at the end (default 0.2)."),
    overwrite: bool = OVERWRITE_OPTION,
    as_json: bool = JSON_OPTION,
    training=None,
    search=None,
) -> None:
    """Train a forecaster, print its test errors next to the baselines, write the run directory.

    Example: lstmkit forecast train --data aapl --target adj_close --horizon 5 --out runs/aapl
    """
    from lstmkit.tasks.forecast import Forecaster
    from lstmkit.tasks.panel import PanelForecaster
    from lstmkit.viz.plots import plot_forecast, plot_loss
    from lstmkit.viz.report import write_forecast

    config = forecast_config(
        training,
        target,
        covariate,
        time,
        fill,
        season,
        layers,
        quantiles,
        id_column,
        calendar,
        future_covariates=future_covariate or None,
        horizon=horizon,
        lookback=lookback,
        hidden_size=hidden_size,
        dropout=dropout,
        cell=cell,
        bidirectional=bidirectional,
        strategy=strategy,
        combine=combine,
        loss=loss,
        scaler=scaler,
        test_fraction=test_fraction,
    )
    prepare_out(out, training, overwrite)
    model = PanelForecaster(config) if id_column else Forecaster(config)
    series = model.read(data)

    def plots() -> dict:
        history = model.history
        assert history is not None  # fit() just ran
        forecast, loss = out / "forecast.png", out / "loss.png"
        if isinstance(model, PanelForecaster):
            model.plot(forecast)
        else:  # the same data drawn as the PNG and, interactive, in report.html
            data = model.plot_data()
            plot_forecast(forecast, **data)
            write_forecast(out, data)
        plot_loss(loss, history.epochs, history.best_epoch)
        return {"forecast": str(forecast), "loss": str(loss)}

    report = train_run(
        out, model, series, measure=lambda: {"lookback": model.lookback, **(model.metrics or {})}, plots=plots, search=search
    )

    def text() -> None:
        if model.metrics:
            print(metrics_table(model.metrics, _describe(model.metrics, f"{data} {', '.join(model.series.targets)}")))
        if isinstance(model, PanelForecaster):
            print(f"one model for {len(model.panel)} series; the plot shows the first, {next(iter(model.panel))!r}")
        print(
            f"trained {report['epochs']} epochs in {report['seconds']:.1f}s (kept epoch {report['best_epoch']}); lookback {model.lookback}"
        )
        print(f"run directory: {out}\nplot: {report['plots']['forecast']}\nloss curve: {report['plots']['loss']}")
        print(f"report: {report['report']}")

    finish(report, as_json, text)


@app.command("predict")
def predict(
    model: Path = typer.Option(..., "--model", help="Run directory written by `lstmkit forecast train`."),
    data: str = typer.Option(None, "--data", help="Forecast after the end of this data. Default: the training data."),
    future: str = typer.Option(
        None, "--future", help="A model with --future-covariate: a CSV/Parquet file of their values at the forecast steps (one row each)."
    ),
    output: Path = typer.Option(None, "--output", help="Also write the forecast to this CSV file."),
    ids: list[str] = IDS,
    as_json: bool = JSON_OPTION,
) -> None:
    """Forecast the next horizon steps after the end of the data (of every series, for a panel model).

    Example: lstmkit forecast predict --model runs/aapl
    """
    import pandas as pd

    estimator = _load(model)
    if hasattr(estimator, "panel"):
        forecast = estimator.predict(data, ids=ids or None)
        frame = forecast
    else:
        if ids:
            raise UserError(f"--id picks series of a panel model; {str(model)!r} holds a one-series model: leave out --id")
        forecast = estimator.predict(data, future=future)
        frame = forecast.reset_index()
    if output is not None:
        write_csv(output, frame, index=False)
    if as_json:
        frame = frame.copy()
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = [t.isoformat() for t in frame[column]]
        emit({"forecast": frame.to_dict(orient="records")}, True)
        return
    print(forecast.to_string())


@app.command("evaluate")
def evaluate(
    model: Path = typer.Option(..., "--model", help="Run directory written by `lstmkit forecast train`."),
    data: str = DATA,
    start: int = typer.Option(None, help="First origin row to score. Default: the first row after those seen in training."),
    ids: list[str] = IDS,
    as_json: bool = JSON_OPTION,
) -> None:
    """Score a trained forecaster on data, next to the naive, seasonal-naive, drift, ETS and ARIMA baselines.

    Example: lstmkit forecast evaluate --model runs/aapl --data aapl
    """
    estimator = _load(model)
    if hasattr(estimator, "panel"):
        result = estimator.evaluate(data, start=start, ids=ids or None)
    elif ids:
        raise UserError(f"--id picks series of a panel model; {str(model)!r} holds a one-series model: leave out --id")
    else:
        result = estimator.evaluate(data, start=start)
    if as_json:
        emit(result, True)
        return
    print(metrics_table(result, _describe(result, data)))


def _load(model: Path):
    """The forecaster saved in ``model``: a one-series or a panel model, as its config.json says."""
    from lstmkit.io.artifacts import saved_kind
    from lstmkit.tasks.forecast import Forecaster
    from lstmkit.tasks.panel import PanelForecaster

    return (PanelForecaster if saved_kind(model) == PanelForecaster.kind else Forecaster).load(model)


@app.command("backtest")
@training_flags(forecast_training, exclude=("resume", "checkpoint_every"))
def backtest(
    data: str = DATA,
    target: list[str] = TARGET,
    covariate: list[str] = COVARIATE,
    future_covariate: list[str] = FUTURE_COVARIATE,
    calendar: str = CALENDAR,
    time: str = TIME,
    fill: str = FILL,
    season: int = SEASON,
    horizon: int = HORIZON,
    folds: int = typer.Option(3, help="Rolling-origin folds; each holds out the next 10% of rows (a panel: one horizon per fold)."),
    id_column: str = ID_COLUMN,
    step: int = typer.Option(None, help="A panel's rows between two cutoffs. Default: the horizon."),
    output: Path = typer.Option(None, "--output", help="A panel: write the per-origin table (id, cutoff, time, actual, methods) to CSV."),
    report: Path = typer.Option(None, "--report", help="Write the backtest as an HTML page (metrics over all folds, then per fold)."),
    lookback: int = LOOKBACK,
    hidden_size: int = HIDDEN,
    layers: int = LAYERS,
    dropout: float = DROPOUT,
    cell: str = CELL,
    strategy: str = STRATEGY,
    combine: str = COMBINE,
    loss: str = LOSS,
    as_json: bool = JSON_OPTION,
    training=None,
) -> None:
    """Rolling-origin backtest: refit (scaler included) before each fold, score model and baselines.

    Example: lstmkit forecast backtest --data sunspots --horizon 5
    """
    from lstmkit.tasks.forecast import backtest as run_backtest
    from lstmkit.tasks.panel import PanelForecaster

    config = forecast_config(
        training,
        target,
        covariate,
        time,
        fill,
        season,
        layers,
        id_column=id_column,
        calendar=calendar,
        future_covariates=future_covariate or None,
        horizon=horizon,
        lookback=lookback,
        hidden_size=hidden_size,
        dropout=dropout,
        cell=cell,
        strategy=strategy,
        combine=combine,
        loss=loss,
    )
    if id_column:
        _panel_backtest(PanelForecaster(config), data, folds, step, output, as_json)
        return
    if step is not None or output is not None:
        raise UserError("step= and output= belong to a panel's backtest; give id_column= too, or leave them out")
    if report is not None and report.is_dir():  # before the folds are fitted
        raise UserError(f"--report {str(report)!r} is a folder; give a file name such as {str(report / 'backtest.html')!r}")
    result = run_backtest(data, config, folds)
    if not lead_process():
        return
    origins = sum(f["origins"] for f in result["folds"])
    title = f"{data}: {folds}-fold rolling-origin backtest, horizon {horizon}, {origins} origins, season {result['season']}"
    if report is not None:
        from lstmkit.viz.report import write_backtest_report

        result["report"] = str(write_backtest_report(result, report, title))
    if as_json:
        emit(result, True)
        return
    print(metrics_table(result, title))
    for i, fold in enumerate(result["folds"], 1):
        print(
            f"fold {i}: trained on {fold['train_rows']} rows; origins {fold['first_origin']} .. {fold['last_origin']}; "
            f"model RMSE {fold['metrics']['model']['rmse']:.4g} vs {fold['best_baseline']} "
            f"{fold['metrics'][fold['best_baseline']]['rmse']:.4g}"
        )
    if report is not None:
        print(f"report: {result['report']}")


def _panel_backtest(model, data: str, folds: int, step: int | None, output: Path | None, as_json: bool) -> None:
    """A panel's rolling cross-validation: the pooled table, and the per-origin table to --output."""
    result = model.cross_validation(data, n_windows=folds, step=step)
    table = result.pop("table")
    if not lead_process():  # torchrun: the other processes trained their shares; rank 0 reports
        return
    if output is not None:
        write_csv(output, table, index=False)
    if as_json:
        emit(result, True)
        return
    title = f"{data}: {folds} rolling windows {result['step']} rows apart, horizon {result['horizon']}, {result['series']} series"
    print(metrics_table(result, title))
    if output is not None:
        print(f"per-origin table: {output} ({len(table)} rows)")
