# The sine wave from the command line: a recursive 10-step forecast, then the next 10 points.
lstmkit forecast train --data sine --lookback 20 --horizon 10 --hidden-size 50 --strategy recursive --combine none --out runs/sine
lstmkit forecast predict --model runs/sine
