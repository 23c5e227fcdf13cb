# Linear probe of the TimeMAE backbone pretrained by har_pretrain.py on HAR (UCI-HAR-style
# windows from the raw HAPT recordings): frozen backbone, mean-pooled representation, only the
# linear head trains.
_base_ = ['./har_finetune.py']

model = dict(freeze_backbone=True)
