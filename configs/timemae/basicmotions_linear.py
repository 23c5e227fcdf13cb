# Linear probe of the TimeMAE encoder pretrained by basicmotions_pretrain.py on BasicMotions: frozen
# encoder, mean-pooled representation, only the linear head trains.
_base_ = ['./basicmotions_finetune.py']

model = dict(freeze_encoder=True)
