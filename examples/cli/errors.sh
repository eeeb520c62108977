# What bad input looks like: one line on stderr that names the problem and the fix, exit code 2.
lstmkit forecast train --data prices.csv --out runs/x  # exits 2
lstmkit forecast train --data aapl --target price --out runs/x  # exits 2
lstmkit forecast train --data ramp --lookback 200 --out runs/x  # exits 2
lstmkit forecast predict --model runs/none  # exits 2
lstmkit tag train --data peoples_daily_ner --scheme BIOX --out runs/x  # exits 2
lstmkit forecast train --data tech_stocks --out runs/x  # exits 2
lstmkit forecast train --data ramp --device cuda --out runs/x  # exits 2
lstmkit forecast train --data ramp --epochs 2 --out runs/ramp
lstmkit forecast train --data ramp --epochs 2 --out runs/ramp  # exits 2
