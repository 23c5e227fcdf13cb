# Fine-tune the TimeMAE backbone pretrained by japanesevowels_pretrain.py on JapaneseVowels
# (9 classes, 12 variates); selection on the validation split carved from TRAIN.
_base_ = ['./basicmotions_finetune.py']

model = dict(
    num_classes=9,
    data_preprocessor=dict(num_variates=12),
    backbone=dict(init_cfg=dict(
        checkpoint='work_dirs/japanesevowels_pretrain/epoch_100.pth')),
)
train_dataloader = dict(dataset=dict(name='JapaneseVowels'))
val_dataloader = dict(dataset=dict(name='JapaneseVowels'))
test_dataloader = dict(dataset=dict(name='JapaneseVowels'))
