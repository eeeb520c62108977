# Chinese reviews, character level, 20 seconds of training: the test part next to bag-of-words.
lstmkit classify train --data sentiment_zh --max-minutes 0.3 --out runs/reviews
lstmkit classify predict --model runs/reviews --text "质量很好，物流也快，非常满意" --text "太差了，用了两天就坏了"
