# Linear probe of the TimeMAE backbone pretrained by japanesevowels_pretrain.py on
# JapaneseVowels: frozen backbone, mean-pooled representation, only the linear head trains.
_base_ = ['./japanesevowels_finetune.py']

model = dict(freeze_backbone=True)
