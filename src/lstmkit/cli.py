"""The ``lstmkit`` command line: parses arguments, calls the library, prints.

A ``UserError`` becomes one line on stderr and exit code 2. With ``--json`` a command prints exactly
one JSON object on stdout; logs go to stderr.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import typer

from lstmkit.errors import UserError

app = typer.Typer(
    help="LSTM sequence modelling: forecasting, text generation, classification, tagging, anomaly detection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object on stdout instead of text.")
# training options shared by the train commands
LAYERS_OPTION = typer.Option(None, "--layers", help="Stacked recurrent layers.")
EMBEDDING_OPTION = typer.Option(None, "--embedding-dim", help="Token embedding size.")
DROPOUT_OPTION = typer.Option(None, "--dropout", help="Dropout rate.")
BATCH_OPTION = typer.Option(None, "--batch-size", help="Samples per optimiser step.")
EPOCHS_OPTION = typer.Option(None, "--epochs", help="Most epochs; early stopping usually ends sooner.")
LR_OPTION = typer.Option(None, "--lr", help="Adam learning rate.")
MAX_MINUTES_OPTION = typer.Option(None, "--max-minutes", help="Stop training cleanly after this many minutes, keeping the best weights.")
SEED_OPTION = typer.Option(None, "--seed", help="The same seed gives the same model on CPU.")


def emit(payload: dict, as_json: bool) -> None:
    """Print a command's result: one JSON object, or aligned ``key: value`` lines."""
    if as_json:
        print(json.dumps(payload, ensure_ascii=False))
        return
    width = max(map(len, payload))
    for key, value in payload.items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        print(f"{key:<{width}}  {value}")


def environment_info() -> dict:
    import numpy
    import torch

    from lstmkit import __version__

    cuda = torch.cuda.is_available()
    return {
        "lstmkit": __version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "device": torch.cuda.get_device_name(0) if cuda else f"cpu ({platform.machine()})",
        "cuda_devices": torch.cuda.device_count() if cuda else 0,
        "threads": torch.get_num_threads(),
        "fused_cpu_backend": "oneDNN" if torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled else "ATen native",
        "cudnn": torch.backends.cudnn.version() if cuda and torch.backends.cudnn.is_available() else None,
    }


@app.command()
def info(as_json: bool = JSON_OPTION) -> None:
    """Show versions, the compute device, threads and which fused LSTM kernels are available.

    Example: lstmkit info --json
    """
    emit(environment_info(), as_json)


@app.command()
def inspect(
    model: Path = typer.Argument(..., help="A model directory written by a train command or save()."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Verify a model directory and show what it holds.

    Example: lstmkit inspect runs/aapl
    """
    from lstmkit.io.artifacts import load_model

    artifact = load_model(model)
    emit(
        {
            "directory": str(model),
            "kind": artifact.kind,
            "written_by": f"lstmkit {artifact.lstmkit_version}",
            "parameters": sum(t.numel() for t in artifact.state_dict.values()),
            "config": artifact.config,
        },
        as_json,
    )


# ------------------------------------------------------------------------------------------- datasets
datasets_app = typer.Typer(help="Bundled real datasets (offline) and generated series.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")


@datasets_app.command("list")
def datasets_list(as_json: bool = JSON_OPTION) -> None:
    """List the bundled datasets.

    Example: lstmkit datasets list
    """
    from lstmkit.data.datasets import DATASETS

    from lstmkit.data.tagging import NER_CORPORA
    from lstmkit.data.text import CORPORA, LABELLED

    rows = [{"name": d.name, "target": d.target, "description": d.description, "source": d.source} for d in DATASETS.values()]
    text = [{"name": name, "task": task, "description": description}
            for task, table in (("textgen", CORPORA), ("classify", LABELLED), ("tag", NER_CORPORA))
            for name, description in table.items()]
    if as_json:
        emit({"datasets": rows, "text": text}, True)
        return
    width = max(len(r["name"]) for r in rows + text)
    print("series (lstmkit forecast / anomaly):")
    for r in rows:
        print(f"  {r['name']:<{width}}  {r['description']}  [target: {r['target']}; {r['source']}]")
    print("text:")
    for r in text:
        print(f"  {r['name']:<{width}}  lstmkit {r['task']}: {r['description']}")


@datasets_app.command("show")
def datasets_show(name: str = typer.Argument(..., help="A name from `lstmkit datasets list`."), as_json: bool = JSON_OPTION) -> None:
    """Show a dataset's columns, size, time range, missing values and first rows.

    Example: lstmkit datasets show co2
    """
    from lstmkit.data.datasets import get_dataset

    text = _text_dataset_summary(name)
    if text is not None:
        emit(text, as_json)
        return
    info = get_dataset(name)
    frame = info.loader()
    summary = {
        "name": info.name,
        "description": info.description,
        "source": info.source,
        "rows": len(frame),
        "columns": list(map(str, frame.columns)),
        "target": info.target,
        "time": info.time,
        "from": str(frame[info.time].iloc[0]) if info.time else 0,
        "to": str(frame[info.time].iloc[-1]) if info.time else len(frame) - 1,
        "missing": {str(c): int(v) for c, v in frame.isna().sum().items() if v},
    }
    if as_json:
        emit(summary, True)
        return
    emit(summary, False)
    print()
    print(frame.head().to_string(index=False))


def _text_dataset_summary(name: str) -> dict | None:
    """Sizes and a first example of a bundled text dataset; None for other names."""
    from collections import Counter

    from lstmkit.data.tagging import NER_CORPORA, entities, peoples_daily_ner
    from lstmkit.data.text import CORPORA, LABELLED, labelled_texts, read_text
    from lstmkit.tasks.tag import mark_entities

    if name in CORPORA:
        text = read_text(name)
        return {"name": name, "description": CORPORA[name], "characters": len(text), "lines": text.count("\n"),
                "first_line": text.strip().splitlines()[0]}
    if name in LABELLED:
        texts, labels = labelled_texts(name)
        return {"name": name, "description": LABELLED[name], "texts": len(texts), "labels": dict(Counter(labels)),
                "first": f"{labels[0]}: {texts[0]}"}
    if name in NER_CORPORA:
        parts = peoples_daily_ner()
        return {"name": name, "description": NER_CORPORA[name],
                "sentences": {k: len(v[0]) for k, v in parts.items()},
                "entities": {k: dict(Counter(e[0] for t in v[1] for e in entities(t))) for k, v in parts.items()},
                "example": mark_entities(*[x[1] for x in parts["train"]], "")}
    return None


# ------------------------------------------------------------------------------------------- forecast
forecast_app = typer.Typer(help="Forecast time series with LSTM/GRU models, measured against baselines.", no_args_is_help=True)
app.add_typer(forecast_app, name="forecast")

DATA = typer.Option(..., "--data", help="A bundled dataset name (lstmkit datasets list) or a CSV/Parquet file.")
TARGET = typer.Option(None, "--target", help="Column to forecast; repeat for several. Default: the dataset's target.")
COVARIATE = typer.Option(None, "--covariate", help="Past covariate column (known up to the forecast origin); repeatable.")
TIME = typer.Option(None, "--time", help="Time column. Default: a datetime column or one named date/time/timestamp.")
FILL = typer.Option(None, "--fill", help="Missing values: ffill (causal), interpolate (reads the next observed value), "
                    "drop or zero. Default: refuse them.")
SEASON = typer.Option(None, "--season", help="Seasonal period in rows. Default: from the time column's frequency.")


def _check_out_dir(out: Path | None) -> None:
    if out is not None and out.exists() and not out.is_dir():
        raise UserError(f"--out {str(out)!r} is an existing file; give a directory path")


def _output_file(output: Path) -> Path:
    """An --output file path, its folder created; a directory there is refused."""
    if output.is_dir():
        raise UserError(f"--output {str(output)!r} is a directory; give a file path such as {str(output / 'predictions.csv')!r}")
    output.parent.mkdir(parents=True, exist_ok=True)
    return output


def _forecast_config(**options):
    from lstmkit.tasks.forecast import ForecasterConfig

    quantiles = options.pop("quantiles")
    if quantiles:
        try:
            options["quantiles"] = [float(q) for q in quantiles.split(",")]
        except ValueError:
            raise UserError(f"--quantiles must be comma-separated numbers like 0.1,0.9, got {quantiles!r}") from None
    return ForecasterConfig(**{k: v for k, v in options.items() if v is not None})


def _metrics_table(result: dict, title: str) -> str:
    """The model's and the baselines' errors, one method per row."""
    def cell(value, digits=4):
        return "-" if value is None else f"{value:.{digits}g}"

    lines = [title, f"{'method':<16}{'MAE':>11}{'RMSE':>11}{'MAPE%':>9}{'sMAPE%':>9}{'MASE':>8}"]
    for name, m in result["metrics"].items():
        lines.append(f"{name:<16}{cell(m['mae']):>11}{cell(m['rmse']):>11}{cell(m['mape'], 3):>9}"
                     f"{cell(m['smape'], 3):>9}{cell(m['mase'], 3):>8}")
    if result.get("skill") is not None:
        lines.append(f"skill vs best baseline ({result['best_baseline']}): {result['skill']:+.1%} in RMSE "
                     "(positive: the model is better)")
    if "interval" in result:
        lo, hi = result["interval"]["levels"]
        lines.append(f"{lo:g}-{hi:g} interval coverage on test: {result['interval']['coverage']:.1%} (nominal {hi - lo:.0%})")
    if "warning" in result:
        lines.append(f"warning: {result['warning']}")
    return "\n".join(lines)


def _describe(result: dict, series_name: str) -> str:
    return (f"{series_name}: horizon {result['horizon']}, {result['origins']} forecast origins "
            f"{result['first_origin']} .. {result['last_origin']}, season {result['season']}")


@forecast_app.command("train")
def forecast_train(
    data: str = DATA,
    target: list[str] = TARGET,
    covariate: list[str] = COVARIATE,
    time: str = TIME,
    fill: str = FILL,
    season: int = SEASON,
    out: Path = typer.Option(..., "--out", help="Run directory to write (model, metrics.json, plots)."),
    horizon: int = typer.Option(1, help="Steps to forecast from each origin."),
    lookback: int = typer.Option(None, help="Input steps. Default: three seasonal periods, within 8..200."),
    hidden_size: int = typer.Option(None, "--hidden-size", help="Units per layer (default 64)."),
    layers: int = typer.Option(None, "--layers", help="Stacked recurrent layers (default 1)."),
    dropout: float = typer.Option(None, help="Dropout between stacked layers."),
    cell: str = typer.Option(None, help="lstm or gru."),
    bidirectional: bool = typer.Option(None, "--bidirectional/--no-bidirectional", help="Read the window both ways."),
    strategy: str = typer.Option(None, help="direct (default), recursive or seq2seq."),
    quantiles: str = typer.Option(None, help="Comma-separated levels for prediction intervals, e.g. 0.1,0.9."),
    scaler: str = typer.Option(None, help="standard (default), minmax or none; fitted on training rows only."),
    test_fraction: float = typer.Option(None, "--test-fraction", help="Share of rows held out at the end (default 0.2)."),
    epochs: int = typer.Option(None, help="Most epochs. Default: chosen from the data size."),
    batch_size: int = typer.Option(None, "--batch-size"),
    lr: float = typer.Option(None, help="Adam learning rate (default 3e-3)."),
    max_minutes: float = typer.Option(None, "--max-minutes", help="Stop training cleanly after this many minutes."),
    seed: int = typer.Option(None, help="Seed: the same seed gives the same model on CPU."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Train a forecaster, print its test errors next to the baselines, write the run directory.

    Example: lstmkit forecast train --data aapl --target adj_close --horizon 5 --out runs/aapl
    """
    import time as clock

    from lstmkit.io.artifacts import METRICS, atomic_write_json
    from lstmkit.tasks.forecast import Forecaster
    from lstmkit.viz.plots import plot_loss

    config = _forecast_config(horizon=horizon, lookback=lookback, hidden_size=hidden_size, num_layers=layers,
                              dropout=dropout, cell=cell, bidirectional=bidirectional, strategy=strategy,
                              quantiles=quantiles, scaler=scaler, test_fraction=test_fraction, epochs=epochs,
                              batch_size=batch_size, lr=lr, max_minutes=max_minutes, seed=seed)
    _check_out_dir(out)
    started = clock.monotonic()
    model = Forecaster(config).fit(data, target or None, covariate or (), time, fill, season)
    seconds = clock.monotonic() - started
    model.save(out)
    history = model.history
    plots = {"forecast": str(model.plot(out / "forecast.png")),
             "loss": str(plot_loss(out / "loss.png", history.epochs, history.best_epoch))}
    report = {"run_dir": str(out), "seconds": round(seconds, 2), "epochs": len(history.epochs),
              "best_epoch": history.best_epoch, "lookback": model.lookback, **(model.metrics or {}), "plots": plots}
    atomic_write_json(out / METRICS, report)
    if as_json:
        emit(report, True)
        return
    if model.metrics:
        print(_metrics_table(model.metrics, _describe(model.metrics, f"{data} {', '.join(model.series.targets)}")))
    print(f"trained {len(history.epochs)} epochs in {seconds:.1f}s (kept epoch {history.best_epoch}); lookback {model.lookback}")
    print(f"run directory: {out}\nplot: {plots['forecast']}\nloss curve: {plots['loss']}")


@forecast_app.command("predict")
def forecast_predict(
    model: Path = typer.Option(..., "--model", help="Run directory written by `lstmkit forecast train`."),
    data: str = typer.Option(None, "--data", help="Forecast after the end of this data. Default: the training data."),
    output: Path = typer.Option(None, "--output", help="Also write the forecast to this CSV file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Forecast the next horizon steps after the end of the data.

    Example: lstmkit forecast predict --model runs/aapl
    """
    import pandas as pd

    from lstmkit.io.artifacts import atomic_write_bytes
    from lstmkit.tasks.forecast import Forecaster

    forecast = Forecaster.load(model).predict(data)
    if output is not None:
        atomic_write_bytes(_output_file(output), forecast.to_csv().encode("utf-8"))
    if as_json:
        frame = forecast.reset_index()
        if isinstance(forecast.index, pd.DatetimeIndex):
            frame[frame.columns[0]] = [t.isoformat() for t in forecast.index]
        emit({"forecast": frame.to_dict(orient="records")}, True)
        return
    print(forecast.to_string())


@forecast_app.command("evaluate")
def forecast_evaluate(
    model: Path = typer.Option(..., "--model", help="Run directory written by `lstmkit forecast train`."),
    data: str = DATA,
    start: int = typer.Option(None, help="First origin row to score. Default: the first with a full lookback."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Score a trained forecaster on data, next to the naive, seasonal-naive and drift baselines.

    Example: lstmkit forecast evaluate --model runs/aapl --data aapl
    """
    from lstmkit.tasks.forecast import Forecaster

    forecaster = Forecaster.load(model)
    result = forecaster.evaluate(data, start=start)
    if as_json:
        emit(result, True)
        return
    print(_metrics_table(result, _describe(result, data)))


@forecast_app.command("backtest")
def forecast_backtest(
    data: str = DATA,
    target: list[str] = TARGET,
    covariate: list[str] = COVARIATE,
    time: str = TIME,
    fill: str = FILL,
    season: int = SEASON,
    horizon: int = typer.Option(1, help="Steps to forecast from each origin."),
    folds: int = typer.Option(3, help="Rolling-origin folds; each holds out the next 10% of rows."),
    lookback: int = typer.Option(None),
    hidden_size: int = typer.Option(None, "--hidden-size"),
    layers: int = typer.Option(None, "--layers"),
    cell: str = typer.Option(None),
    strategy: str = typer.Option(None),
    epochs: int = typer.Option(None),
    max_minutes: float = typer.Option(None, "--max-minutes", help="Training budget per fold."),
    seed: int = typer.Option(None),
    as_json: bool = JSON_OPTION,
) -> None:
    """Rolling-origin backtest: refit (scaler included) before each fold, score model and baselines.

    Example: lstmkit forecast backtest --data sunspots --horizon 5
    """
    from lstmkit.tasks.forecast import backtest

    config = _forecast_config(horizon=horizon, lookback=lookback, hidden_size=hidden_size, num_layers=layers, cell=cell,
                              strategy=strategy, epochs=epochs, max_minutes=max_minutes, seed=seed, quantiles=None)
    result = backtest(data, config, folds, target or None, covariate or (), time, fill, season)
    if as_json:
        emit(result, True)
        return
    origins = sum(f["origins"] for f in result["folds"])
    print(_metrics_table(result, f"{data}: {folds}-fold rolling-origin backtest, horizon {horizon}, "
                                 f"{origins} origins, season {result['season']}"))
    for i, fold in enumerate(result["folds"], 1):
        print(f"fold {i}: trained on {fold['train_rows']} rows; origins {fold['first_origin']} .. {fold['last_origin']}; "
              f"model RMSE {fold['metrics']['model']['rmse']:.4g} vs {fold['best_baseline']} "
              f"{fold['metrics'][fold['best_baseline']]['rmse']:.4g}")


# -------------------------------------------------------------------------------------------- anomaly
anomaly_app = typer.Typer(help="Flag points a forecaster did not expect.", no_args_is_help=True)
app.add_typer(anomaly_app, name="anomaly")


@anomaly_app.command("detect")
def anomaly_detect(
    data: str = DATA,
    target: str = typer.Option(None, "--target", help="The column to watch. Default: the dataset's target."),
    time: str = TIME,
    fill: str = FILL,
    threshold: float = typer.Option(5.0, help="Robust z-score of the 1-step residual above which a point is flagged."),
    train_fraction: float = typer.Option(0.5, "--train-fraction", help="Leading share of rows to learn normal behaviour from."),
    labels: str = typer.Option(None, "--labels", help="A 0/1 column of known anomalies: report precision and recall."),
    out: Path = typer.Option(None, "--out", help="Directory for anomalies.csv and anomalies.png."),
    epochs: int = typer.Option(None),
    seed: int = typer.Option(0),
    as_json: bool = JSON_OPTION,
) -> None:
    """Train a 1-step forecaster on the first rows and flag points with outsized residuals.

    Example: lstmkit anomaly detect --data sensor.csv --target temp --out runs/sensor
    """
    import numpy as np

    from lstmkit.data.series import Series, read_table, to_series
    from lstmkit.io.artifacts import atomic_write_bytes
    from lstmkit.tasks.anomaly import AnomalyConfig, AnomalyDetector, precision_recall
    from lstmkit.viz.plots import plot_anomalies

    _check_out_dir(out)
    frame, info = read_table(data)
    # labels ride along as a covariate so that sorting by time and dropping rows keep them aligned
    series = to_series(frame, [target] if target else None, [labels] if labels else (), time, fill, info)
    truth = series.values[:, 1] if labels else None
    if truth is not None and not np.isin(truth, (0, 1)).all():
        raise UserError(f"--labels {labels!r} must hold 0 (normal) or 1 (anomaly) only")
    series = Series(series.values[:, :1], series.targets, [], series.time, series.season, series.time_column, freq=series.freq)
    detector = AnomalyDetector(AnomalyConfig(threshold=threshold, train_fraction=train_fraction, epochs=epochs, seed=seed,
                                             verbose=not as_json))
    detector.fit(series)
    result = detector.detect()
    found = result[result["anomaly"]]
    report = {"rows": len(result), "anomalies": len(found), **detector.settings()}
    if truth is not None:
        report.update(precision_recall(result["anomaly"].to_numpy(), truth > 0))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / "anomalies.csv", result.to_csv().encode("utf-8"))
        train_end = result.index[int(len(result) * train_fraction) - 1]
        plot = plot_anomalies(out / "anomalies.png", f"{data}: {detector.series.targets[0]}", result.index,
                              result["value"].to_numpy(), result["expected"].to_numpy(), result["anomaly"].to_numpy(), train_end)
        report["plot"] = str(plot)
    if as_json:
        report["flagged"] = [{"at": str(i), "value": r.value, "expected": r.expected, "score": r.score}
                             for i, r in found.iterrows()]
        emit(report, True)
        return
    print(f"{len(found)} of {len(result)} points flagged (robust z > {threshold:g}; normal behaviour learned "
          f"from the first {train_fraction:.0%} of rows)")
    if len(found):
        print(found[["value", "expected", "score"]].to_string(float_format=lambda v: f"{v:.4g}"))
    if labels is not None:
        p, r = report["precision"], report["recall"]
        print(f"against --labels {labels}: precision {'-' if p is None else f'{p:.3f}'}, recall {'-' if r is None else f'{r:.3f}'}")
    if out is not None:
        print(f"table: {out / 'anomalies.csv'}\nplot: {report['plot']}")


# -------------------------------------------------------------------------------------------- textgen
textgen_app = typer.Typer(help="Character- and word-level LSTM language models: train, sample, evaluate.", no_args_is_help=True)
app.add_typer(textgen_app, name="textgen")
TEXT_DATA = typer.Option(..., "--data", help="A bundled corpus (hamlet, peoples_daily) or a UTF-8 text file.")


def _lm_table(result: dict, title: str) -> str:
    lines = [title, f"{'method':<10}{'cross-entropy':>15}{'perplexity':>12}{'bits/char':>11}"]
    names = {"model": "model", "unigram": "unigram", "ngram": f"{result['ngram_order']}-gram KN"}
    for name, m in result["metrics"].items():
        lines.append(f"{names[name]:<10}{m['cross_entropy']:>15.4f}{m['perplexity']:>12.2f}{m['bpc']:>11.4f}")
    if result["unknown_tokens"]:
        lines.append(f"{result['unknown_tokens']} distinct tokens of the evaluated text are not in the vocabulary (scored as <unk>)")
    return "\n".join(lines)


def _lm_title(result: dict, what: str) -> str:
    return (f"{what}: {result['tokens']} {result['level']}-level tokens ({result['language']}), "
            f"{result['characters']} characters, vocabulary {result['vocab_size']}; cross-entropy in nats per token")


@textgen_app.command("train")
def textgen_train(
    data: str = TEXT_DATA,
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    level: str = typer.Option("char", help="char or word."),
    language: str = typer.Option("auto", help="en, zh or auto; word-level zh uses jieba."),
    mode: str = typer.Option("tbptt", help="tbptt (carried state over the whole text) or window (the tutorials')."),
    seq_len: int = typer.Option(None, "--seq-len", help="Tokens per block or window (default 100)."),
    batch_size: int = BATCH_OPTION,
    hidden_size: int = typer.Option(None, "--hidden-size", help="LSTM units (default 512)."),
    layers: int = LAYERS_OPTION,
    embedding_dim: int = EMBEDDING_OPTION,
    dropout: float = DROPOUT_OPTION,
    tie_weights: bool = typer.Option(False, "--tie-weights", help="Share embedding and output weights."),
    min_freq: int = typer.Option(None, "--min-freq", help="Rarer tokens become <unk>."),
    max_vocab: int = typer.Option(None, "--max-vocab"),
    epochs: int = EPOCHS_OPTION,
    lr: float = LR_OPTION,
    max_minutes: float = MAX_MINUTES_OPTION,
    seed: int = SEED_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Train a language model, print held-out cross-entropy, perplexity and bits/char next to n-gram baselines.

    Example: lstmkit textgen train --data hamlet --max-minutes 10 --out runs/hamlet
    """
    import time as clock

    from lstmkit.data.text import read_text
    from lstmkit.io.artifacts import METRICS, atomic_write_json
    from lstmkit.tasks.textgen import TextGenConfig, TextGenerator

    _check_out_dir(out)
    options = dict(level=level, language=language, mode=mode, seq_len=seq_len, batch_size=batch_size, hidden_size=hidden_size,
                   num_layers=layers, embedding_dim=embedding_dim, dropout=dropout, tie_weights=tie_weights, min_freq=min_freq,
                   max_vocab=max_vocab, epochs=epochs, lr=lr, max_minutes=max_minutes, seed=seed, verbose=True)
    config = TextGenConfig(**{k: v for k, v in options.items() if v is not None})
    if config.tie_weights and embedding_dim is None:
        config.embedding_dim = config.hidden_size
    text = read_text(data)
    started = clock.monotonic()
    model = TextGenerator(config).fit(text, source=data)
    seconds = clock.monotonic() - started
    model.save(out)
    result = model.evaluate()
    report = {"run_dir": str(out), "seconds": round(seconds, 2), "epochs": len(model.history.epochs), **result,
              "sample": model.generate(length=200, seed=config.seed, temperature=0.8)}
    atomic_write_json(out / METRICS, report)
    if as_json:
        emit(report, True)
        return
    print(_lm_table(result, _lm_title(result, f"{data}, test part (the last {config.test_fraction:.0%})")))
    print(f"trained {len(model.history.epochs)} epochs in {seconds:.0f}s; run directory: {out}")
    print("sample (temperature 0.8):\n" + report["sample"])


@textgen_app.command("sample")
def textgen_sample(
    model: Path = typer.Option(..., "--model", help="Run directory written by `lstmkit textgen train`."),
    prompt: str = typer.Option("", help="Text to continue."),
    length: int = typer.Option(300, help="Tokens to generate."),
    method: str = typer.Option("sample", help="sample, greedy or beam."),
    temperature: float = typer.Option(1.0),
    top_k: int = typer.Option(None, "--top-k"),
    top_p: float = typer.Option(None, "--top-p", help="Nucleus sampling: the smallest set of tokens with this mass."),
    beam: int = typer.Option(4, help="Hypotheses kept by beam search."),
    seed: int = typer.Option(0, help="Same seed, same text."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Continue a prompt; the text streams to the terminal as it is produced.

    Example: lstmkit textgen sample --model runs/hamlet --prompt "HAMLET" --top-p 0.9
    """
    from lstmkit.tasks.textgen import TextGenerator, stream_to

    generator = TextGenerator.load(model)

    def warn(unknown: list[str]) -> None:
        print(f"note: the prompt has {len(unknown)} token(s) not in the vocabulary, read as <unk>: "
              + ", ".join(repr(t) for t in unknown[:10]), file=sys.stderr)

    if as_json:
        text = generator.generate(prompt, length, method, temperature, top_k, top_p, beam, seed, on_unknown=warn)
        emit({"text": text}, True)
        return
    print(prompt, end="", flush=True)
    generator.generate(prompt, length, method, temperature, top_k, top_p, beam, seed, on_text=stream_to(sys.stdout), on_unknown=warn)
    print()


@textgen_app.command("evaluate")
def textgen_evaluate(
    model: Path = typer.Option(..., "--model", help="Run directory written by `lstmkit textgen train`."),
    data: str = typer.Option(None, "--data", help="Text to score. Default: the held-out end of the training text."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Cross-entropy, perplexity and bits/char of the model and the n-gram baselines.

    Example: lstmkit textgen evaluate --model runs/hamlet
    """
    from lstmkit.data.text import read_text
    from lstmkit.tasks.textgen import TextGenerator

    generator = TextGenerator.load(model)
    result = generator.evaluate(None if data is None else read_text(data))
    if as_json:
        emit(result, True)
        return
    print(_lm_table(result, _lm_title(result, data or f"{generator.source}, held-out split")))


# ------------------------------------------------------------------------------------------- classify
classify_app = typer.Typer(help="Sequence classification (sentiment, ...): LSTM/GRU with attention, next to a bag-of-words baseline.",
                           no_args_is_help=True)
app.add_typer(classify_app, name="classify")
LABELLED_DATA = typer.Option(..., "--data", help="sentiment_en, sentiment_zh, or a CSV/TSV/Parquet file with text and label columns.")
TEXT_COLUMN = typer.Option("text", "--text-column", help="The column holding the texts.")
LABEL_COLUMN = typer.Option("label", "--label-column", help="The column holding the labels.")


def _classify_table(result: dict, title: str) -> str:
    lines = [title, f"{'method':<12}{'accuracy':>9}{'precision':>10}{'recall':>8}{'f1':>8}   (macro averages)"]
    for name, m in result["metrics"].items():
        lines.append(f"{name:<12}{m['accuracy']:>9.4f}{m['precision']:>10.4f}{m['recall']:>8.4f}{m['f1']:>8.4f}")
    classes = [str(c) for c in result["classes"]]
    width = max(8, *map(len, classes)) + 2
    lines.append("confusion matrix of the model (rows: true, columns: predicted)")
    lines.append(" " * width + "".join(f"{c:>{width}}" for c in classes))
    for c, row in zip(classes, result["confusion"]):
        lines.append(f"{c:>{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


def _classify_parts(source: str, text_column: str, label_column: str) -> tuple[dict, str]:
    """The fixed train/dev/test split of labelled data, and a fingerprint of the data it came from."""
    import hashlib

    from lstmkit.data.text import labelled_texts
    from lstmkit.tasks.classify import three_way_split

    texts, labels = labelled_texts(source, text_column, label_column)
    fingerprint = hashlib.sha256(json.dumps([texts, labels], ensure_ascii=False).encode("utf-8")).hexdigest()
    return three_way_split(texts, labels, seed=0), fingerprint


def _source_name(data: str) -> str:
    """A bundled name as it is, a file as its absolute path (so that ./a.csv and a.csv are the same data)."""
    from lstmkit.data.text import LABELLED

    return data if data in LABELLED or not Path(data).exists() else str(Path(data).resolve())


@classify_app.command("train")
def classify_train(
    data: str = LABELLED_DATA,
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    text_column: str = TEXT_COLUMN,
    label_column: str = LABEL_COLUMN,
    level: str = typer.Option("auto", help="char, word, or auto (characters for Chinese, words for English)."),
    pooling: str = typer.Option("attention", help="attention, last, mean or max."),
    cell: str = typer.Option("lstm", help="lstm or gru."),
    conv_channels: int = typer.Option(0, "--conv-channels", help="> 0 adds a Conv1d front-end (CNN+LSTM)."),
    unidirectional: bool = typer.Option(False, "--unidirectional", help="One direction instead of a BiLSTM."),
    hidden_size: int = typer.Option(None, "--hidden-size", help="Units per direction (default 128)."),
    layers: int = LAYERS_OPTION,
    embedding_dim: int = EMBEDDING_OPTION,
    dropout: float = DROPOUT_OPTION,
    max_len: int = typer.Option(None, "--max-len", help="Tokens read per text (default 256)."),
    batch_size: int = BATCH_OPTION,
    epochs: int = EPOCHS_OPTION,
    lr: float = LR_OPTION,
    max_minutes: float = MAX_MINUTES_OPTION,
    seed: int = SEED_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Train a classifier on the train part of a fixed stratified 80/10/10 split; report the test part next to bow_logreg.

    Example: lstmkit classify train --data sentiment_zh --out runs/sentiment_zh
    """
    import time as clock

    from lstmkit.io.artifacts import METRICS, atomic_write_json
    from lstmkit.tasks.classify import ClassifierConfig, SequenceClassifier

    _check_out_dir(out)
    options = dict(level=level, pooling=pooling, cell=cell, conv_channels=conv_channels, bidirectional=not unidirectional,
                   hidden_size=hidden_size, num_layers=layers, embedding_dim=embedding_dim, dropout=dropout, max_len=max_len,
                   batch_size=batch_size, epochs=epochs, lr=lr, max_minutes=max_minutes, seed=seed)
    config = ClassifierConfig(**{k: v for k, v in options.items() if v is not None})
    parts, fingerprint = _classify_parts(data, text_column, label_column)
    started = clock.monotonic()
    clf = SequenceClassifier(config).fit(*parts["train"], validation=parts["dev"])
    seconds = clock.monotonic() - started
    clf.save(out, extra={"source": _source_name(data), "data_sha256": fingerprint, "text_column": text_column,
                         "label_column": label_column})
    result = clf.evaluate(*parts["test"], baseline_data=(*parts["train"], *parts["dev"]))
    report = {"run_dir": str(out), "seconds": round(seconds, 2), "epochs": len(clf.history.epochs),
              "best_epoch": clf.history.best_epoch, "split": {k: len(v[1]) for k, v in parts.items()}, **result}
    atomic_write_json(out / METRICS, report)
    if as_json:
        emit(report, True)
        return
    print(_classify_table(result, f"{data}, test part: {result['samples']} texts"))
    print(f"trained {len(clf.history.epochs)} epochs in {seconds:.0f}s (kept epoch {clf.history.best_epoch}); run directory: {out}")


@classify_app.command("predict")
def classify_predict(
    model: Path = typer.Option(..., "--model", help="Run directory written by `lstmkit classify train`."),
    text: list[str] = typer.Option(None, "--text", help="A text to classify; repeat for more."),
    data: str = typer.Option(None, "--data", help="A CSV/TSV/Parquet file (its --text-column) or a .txt file, one text per line."),
    text_column: str = TEXT_COLUMN,
    output: Path = typer.Option(None, "--output", help="Also write the predictions as CSV (text, label, probability)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Label texts; with attention pooling, show the tokens the model weighted most.

    Example: lstmkit classify predict --model runs/sentiment_zh --text "质量很好，物流也快" --text "太差了，退货"
    """
    import numpy as np

    from lstmkit.tasks.classify import SequenceClassifier

    clf = SequenceClassifier.load(model)
    texts = list(text or []) + (_texts_from(data, text_column) if data else [])
    if not texts:
        raise UserError("nothing to classify; give --text \"...\" (repeatable) or --data FILE")
    if clf.config.pooling == "attention":
        probs, attention = clf.predict_proba(texts, attention=True)
    else:
        probs, attention = clf.predict_proba(texts), [None] * len(texts)
    rows = []
    for t, p, att in zip(texts, probs, attention):
        row = {"text": t, "label": clf.classes[int(p.argmax())], "probability": round(float(p.max()), 4)}
        if att is not None:
            tokens, weights = att
            top = np.argsort(-weights)[:5]
            row["attention"] = [[tokens[i], round(float(weights[i]), 3)] for i in top]
        rows.append(row)
    if output is not None:
        import io

        import pandas as pd

        from lstmkit.io.artifacts import atomic_write_bytes

        buffer = io.StringIO()
        pd.DataFrame([{k: r[k] for k in ("text", "label", "probability")} for r in rows]).to_csv(buffer, index=False)
        atomic_write_bytes(_output_file(output), buffer.getvalue().encode("utf-8"))
    if as_json:
        emit({"predictions": rows}, True)
        return
    for r in rows:
        focus = "   attention: " + " ".join(f"{tok}({w:.2f})" for tok, w in r["attention"]) if "attention" in r else ""
        print(f"{r['label']}  {r['probability']:.3f}  {r['text'][:80]}{focus}")


def _texts_from(data: str, text_column: str) -> list[str]:
    from lstmkit.data.text import _read_frame, read_text

    if Path(data).suffix.lower() == ".txt":
        return [line.strip() for line in read_text(data).splitlines() if line.strip()]
    frame = _read_frame(data)
    if text_column not in frame.columns:
        raise UserError(f"--data {data!r} has no column {text_column!r}; its columns are {list(frame.columns)}; use --text-column")
    return [str(t) for t in frame[text_column].dropna()]


@classify_app.command("evaluate")
def classify_evaluate(
    model: Path = typer.Option(..., "--model", help="Run directory written by `lstmkit classify train`."),
    data: str = typer.Option(None, "--data", help="Labelled data; default (or the training data again): its test part."),
    text_column: str = TEXT_COLUMN,
    label_column: str = LABEL_COLUMN,
    as_json: bool = JSON_OPTION,
) -> None:
    """Accuracy, macro precision/recall/F1 and the confusion matrix, next to bow_logreg fitted on the training part.

    Example: lstmkit classify evaluate --model runs/sentiment_zh
    """
    from lstmkit.data.text import labelled_texts
    from lstmkit.tasks.classify import SequenceClassifier

    clf = SequenceClassifier.load(model)
    source = clf.preprocessing.get("source")
    columns = (clf.preprocessing.get("text_column", "text"), clf.preprocessing.get("label_column", "label"))
    training, problem = None, (None if source else "this model does not record its training data")
    try:
        training, fingerprint = _classify_parts(source, *columns) if source else (None, None)
        saved = clf.preprocessing.get("data_sha256")
        if training is not None and fingerprint != saved:
            training, problem = None, (f"the training data {source!r} has changed since training" if saved else
                                       "this model does not record a fingerprint of its training data")
    except UserError:
        problem = f"the training data {source!r} cannot be read here"
    if problem:  # the model is still scored on other data, without the baseline
        print(f"note: {problem}; no bow_logreg baseline", file=sys.stderr)
    if data is None or _source_name(data) == source:
        if training is None:
            raise UserError(f"{problem}, so its test part is unknown; give --data with other labelled texts")
        evaluated, what = training["test"], f"{source}, test part"
    else:
        evaluated, what = labelled_texts(data, text_column, label_column), data
    baseline = (*training["train"], *training["dev"]) if training else None
    result = clf.evaluate(*evaluated, baseline_data=baseline)
    if as_json:
        emit(result, True)
        return
    print(_classify_table(result, f"{what}: {result['samples']} texts"))


# ------------------------------------------------------------------------------------------------ tag
tag_app = typer.Typer(help="Sequence labelling (named entities): BiLSTM-CRF, scored per entity.", no_args_is_help=True)
app.add_typer(tag_app, name="tag")
TAGGED_DATA = typer.Option(..., "--data", help="peoples_daily_ner, or a CoNLL file (token ... tag per line, blank line between sentences).")


def _tag_table(result: dict, title: str) -> str:
    m = result["metrics"]["model"]
    lines = [title, f"{'entity':<10}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    for kind, s in [*result["per_type"].items(), ("overall", m)]:
        support = s.get("support", sum(v["support"] for v in result["per_type"].values()))
        lines.append(f"{kind:<10}{s['precision']:>10.4f}{s['recall']:>8.4f}{s['f1']:>8.4f}{support:>9}")
    lines.append(f"token accuracy {m['accuracy']:.4f}")
    return "\n".join(lines)


@tag_app.command("train")
def tag_train(
    data: str = TAGGED_DATA,
    out: Path = typer.Option(..., "--out", help="Run directory to write."),
    dev: str = typer.Option(None, "--dev", help="A CoNLL dev file (early stopping). Default: held out from --data."),
    test: str = typer.Option(None, "--test", help="A CoNLL test file (reported). Default: held out from --data."),
    decoder: str = typer.Option("crf", help="crf or softmax."),
    scheme: str = typer.Option("BIO", help="BIO or BIOES: the tags the model learns."),
    char_features: bool = typer.Option(None, "--char-features/--no-char-features",
                                       help="A character CNN per word (default: on for word tokens, off for characters)."),
    hidden_size: int = typer.Option(None, "--hidden-size", help="Units per direction (default 128)."),
    layers: int = LAYERS_OPTION,
    embedding_dim: int = EMBEDDING_OPTION,
    dropout: float = DROPOUT_OPTION,
    batch_size: int = BATCH_OPTION,
    epochs: int = EPOCHS_OPTION,
    lr: float = LR_OPTION,
    max_minutes: float = MAX_MINUTES_OPTION,
    seed: int = SEED_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Train a BiLSTM-CRF tagger; report entity-level precision/recall/F1 per type on the test part.

    Example: lstmkit tag train --data peoples_daily_ner --max-minutes 14 --out runs/ner
    """
    import time as clock

    from lstmkit.data.tagging import tagged_splits
    from lstmkit.io.artifacts import METRICS, atomic_write_json
    from lstmkit.tasks.tag import SequenceTagger, TaggerConfig

    _check_out_dir(out)
    options = dict(decoder=decoder, scheme=scheme, char_features=char_features, hidden_size=hidden_size, num_layers=layers,
                   embedding_dim=embedding_dim, dropout=dropout, batch_size=batch_size, epochs=epochs, lr=lr,
                   max_minutes=max_minutes, seed=seed)
    config = TaggerConfig(**{k: v for k, v in options.items() if v is not None})
    parts = tagged_splits(data, dev, test)
    started = clock.monotonic()
    tagger = SequenceTagger(config).fit(*parts["train"], dev=parts["dev"])
    seconds = clock.monotonic() - started
    tagger.save(out)
    result = tagger.evaluate(*parts["test"])
    report = {"run_dir": str(out), "seconds": round(seconds, 2), "epochs": len(tagger.history.epochs),
              "best_epoch": tagger.history.best_epoch, "split": {k: len(v[0]) for k, v in parts.items()}, **result}
    atomic_write_json(out / METRICS, report)
    if as_json:
        emit(report, True)
        return
    print(_tag_table(result, f"{data}, test part: {result['sentences']} sentences, {result['tokens']} tokens"))
    print(f"trained {len(tagger.history.epochs)} epochs in {seconds:.0f}s (kept epoch {tagger.history.best_epoch}); run directory: {out}")


@tag_app.command("predict")
def tag_predict(
    model: Path = typer.Option(..., "--model", help="Run directory written by `lstmkit tag train`."),
    text: list[str] = typer.Option(None, "--text", help="A sentence to tag; repeat for more."),
    data: str = typer.Option(None, "--data", help="A .txt file (one sentence per line) or a CoNLL file (tokens in its first column)."),
    output: Path = typer.Option(None, "--output", help="Also write token / tag lines (CoNLL) to this file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Tag sentences and show the entities marked in the text: [江泽民]PER在[北京]LOC.

    Example: lstmkit tag predict --model runs/ner --text "江泽民主席在北京会见了俄罗斯总统叶利钦"
    """
    from lstmkit.data.tagging import entities, read_conll, write_conll
    from lstmkit.data.text import read_text
    from lstmkit.tasks.tag import SequenceTagger, mark_entities

    tagger = SequenceTagger.load(model)
    lines = list(text or [])
    sentences = [tagger.tokenize(t) for t in lines]
    if data:
        if Path(data).suffix.lower() == ".txt":
            file_lines = [line for line in read_text(data).splitlines() if line.strip()]
            lines += file_lines
            sentences += [tagger.tokenize(t) for t in file_lines]
        else:
            file_sentences = read_conll(data, tag_column=None)[0]
            lines += [" ".join(s) for s in file_sentences]
            sentences += file_sentences
    if not sentences:
        raise UserError("nothing to tag; give --text \"...\" (repeatable) or --data FILE")
    for i, s in enumerate(sentences):
        if not s:
            raise UserError(f"sentence {i + 1} ({lines[i]!r}) has no tokens; drop empty sentences")
    tags = tagger.predict(sentences)
    if output is not None:
        write_conll(_output_file(output), sentences, tags)
    joiner = "" if tagger.level == "char" else " "
    rows = [{"tokens": s, "tags": t, "marked": mark_entities(s, t, joiner),
             "entities": [{"type": k, "text": joiner.join(s[a:b]), "start": a, "end": b} for k, a, b in entities(t)]}
            for s, t in zip(sentences, tags)]
    if as_json:
        emit({"predictions": rows}, True)
        return
    for r in rows:
        print(r["marked"])


@tag_app.command("evaluate")
def tag_evaluate(
    model: Path = typer.Option(..., "--model", help="Run directory written by `lstmkit tag train`."),
    data: str = typer.Option(..., "--data", help="peoples_daily_ner (its test part) or a CoNLL file (all of it)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Entity-level precision, recall and F1, overall and per type (seqeval's definitions).

    Example: lstmkit tag evaluate --model runs/ner --data peoples_daily_ner
    """
    from lstmkit.data.tagging import NER_CORPORA, peoples_daily_ner, read_conll
    from lstmkit.tasks.tag import SequenceTagger

    tagger = SequenceTagger.load(model)
    evaluated = peoples_daily_ner()["test"] if data in NER_CORPORA else read_conll(data)
    result = tagger.evaluate(*evaluated)
    if as_json:
        emit(result, True)
        return
    print(_tag_table(result, f"{data}{', test part' if data in NER_CORPORA else ''}: {result['sentences']} sentences"))


def main() -> None:
    try:
        app()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
