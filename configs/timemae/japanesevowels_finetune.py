# Fine-tune the TimeMAE encoder pretrained by japanesevowels_pretrain.py on JapaneseVowels
# (9 classes); selection on the validation split carved from TRAIN.
_base_ = ['./basicmotions_finetune.py']

model = dict(
    num_classes=9,
    pretrained='work_dirs/japanesevowels_pretrain/epoch_100.pth',
    data_preprocessor=dict(num_variates=12),
    window_slicer=dict(in_channels=12),
)
train_dataloader = dict(dataset=dict(name='JapaneseVowels'))
val_dataloader = dict(dataset=dict(name='JapaneseVowels'))
test_dataloader = dict(dataset=dict(name='JapaneseVowels'))
