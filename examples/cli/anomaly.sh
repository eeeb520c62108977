# The Python API on a series with 20 known spikes (writes sensor.csv), then the same data from the command line.
python examples/anomaly_sensor.py
lstmkit anomaly detect --data sensor.csv --target temp --labels is_anomaly --out runs/sensor
