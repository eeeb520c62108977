# BiLSTM-CRF on People's Daily named entities: trained from Python (30 seconds), then used from the command line.
python examples/tag_entities.py
lstmkit tag predict --model runs/ner --text "江泽民主席在北京会见了俄罗斯总统叶利钦" --text "李鹏在上海考察了浦东新区"
lstmkit tag evaluate --model runs/ner --data peoples_daily_ner
