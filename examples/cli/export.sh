# Train a small forecaster on the sine wave, then export it as ONNX and as TorchScript.
lstmkit forecast train --data sine --horizon 10 --epochs 3 --combine none --out runs/sine-export --overwrite
lstmkit export --model runs/sine-export --format onnx --out runs/sine-export.onnx
lstmkit export --model runs/sine-export --format torchscript --out runs/sine-export.pt --json
lstmkit export --model runs/sine-export --format tflite --out runs/sine-export.tflite  # exits 2
