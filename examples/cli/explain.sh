# A small character model of Hamlet (20 seconds of training), then what its gates and cells do with four lines of the play.
lstmkit textgen train --data hamlet --level char --hidden-size 128 --layers 1 --max-minutes 0.3 --seed 0 --out runs/hamlet-small --overwrite
lstmkit explain --model runs/hamlet-small --out runs/hamlet-small/explain --text "$(printf 'HAMLET.\nTo be, or not to be, that is the question:\nWhether tis nobler in the mind to suffer\nThe slings and arrows of outrageous fortune,')"
lstmkit explain --model runs/hamlet-small --out runs/hamlet-small/explain --text "To be" --cell 999  # exits 2
