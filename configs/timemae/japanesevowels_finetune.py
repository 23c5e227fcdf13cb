# Fine-tune the TimeMAE encoder pretrained by japanesevowels_pretrain.py on JapaneseVowels (9 classes):
# encoder + linear head trained end to end; selection on the validation split (from TRAIN).
# model.pretrained = the pretraining checkpoint (None = the same model from scratch).
_base_ = [
    '../_base_/models/timemae_classifier.py',
    '../_base_/datasets/uea.py',
    '../_base_/schedules/timemae_finetune_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    num_classes=9,
    pretrained='work_dirs/japanesevowels_pretrain/epoch_100.pth',
    freeze_encoder=False,
    data_preprocessor=dict(num_variates=12),
    # window 4, not the official 8: with 8, JapaneseVowels (<= 29 steps) has only 4
    # sub-series and the codeword task learns nothing; 4 also helps BasicMotions.
    window_slicer=dict(window=4, in_channels=12),
)
train_dataloader = dict(batch_size=32, dataset=dict(name='JapaneseVowels'))
val_dataloader = dict(dataset=dict(name='JapaneseVowels'))
test_dataloader = dict(dataset=dict(name='JapaneseVowels'))

default_hooks = dict(checkpoint=dict(interval=25, save_last=True, save_best='cls/log_loss',
                                     rule='less'))
custom_hooks = [
    dict(type='TrainStatsHook'),
    dict(type='RNGStateHook'),
    dict(type='ConfusionMatrixHook'),
]
