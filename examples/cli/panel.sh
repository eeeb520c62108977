# Twenty US employment sectors, monthly: one global model, scored per sector against the baselines.
lstmkit forecast train --data us_employment --id-column sector --horizon 12 --out runs/jobs
lstmkit forecast predict --model runs/jobs --id construction --id retail_trade
