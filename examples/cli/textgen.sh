# A character-level model on Hamlet, half a minute of training, then sampling and beam search.
lstmkit textgen train --data hamlet --max-minutes 0.5 --out runs/hamlet
lstmkit textgen sample --model runs/hamlet --prompt "HAMLET" --length 200 --temperature 0.8 --top-p 0.9
lstmkit textgen sample --model runs/hamlet --prompt "HAMLET" --length 100 --method beam --beam 4
