# AAPL from the command line (what `make demo` runs), then the next 5 trading days with their interval.
lstmkit forecast train --data aapl --target adj_close --horizon 5 --quantiles 0.1,0.9 --out runs/aapl
lstmkit forecast predict --model runs/aapl
