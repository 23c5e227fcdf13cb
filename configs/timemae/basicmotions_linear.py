# Linear probe of the TimeMAE backbone pretrained by basicmotions_pretrain.py on BasicMotions:
# frozen backbone, mean-pooled representation, only the linear head trains.
_base_ = ['./basicmotions_finetune.py']

model = dict(freeze_backbone=True)
