# Linear probe of the TimeMAE encoder pretrained by japanesevowels_pretrain.py on JapaneseVowels: frozen
# encoder, mean-pooled representation, only the linear head trains.
_base_ = ['./japanesevowels_finetune.py']

model = dict(freeze_encoder=True)
