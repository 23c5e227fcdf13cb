# TimesCLIP with the real offline towers (ImageNet MobileNetV2 + MiniLM, both frozen; see
# timesclip_mobilenet_minilm.py) on a UEA/UCR set from aeon or a folder. The template of
# basicmotions.py / japanesevowels.py; `tools/benchmarks/baselines.py` fills in any other set's
# name, variates and classes. 'train'/'val' are a stratified 80/20 split of TRAIN, TEST is used
# once, for the best checkpoint by validation log-loss (small validation splits: macro-F1 ties
# at 1.0 within a few epochs, log-loss still ranks them).
_base_ = [
    '../_base_/models/timesclip_mobilenet_minilm.py',
    '../_base_/datasets/uea.py',
    '../_base_/schedules/adamw_plateau_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    num_classes=4,
    # variable-length series (JapaneseVowels) are padded at the end; TimesCLIP reads neither its
    # plots nor its patches through the mask, so the padding repeats the last valid value
    # instead of dropping to the pad value
    data_preprocessor=dict(num_variates=6, fill_padding='last'),
)
train_dataloader = dict(batch_size=16)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(monitor='cls/log_loss', rule='less')
train_cfg = dict(max_epochs=40)
default_hooks = dict(
    checkpoint=dict(save_best='cls/log_loss', rule='less'),
    early_stopping=dict(type='ResumableEarlyStoppingHook', monitor='cls/log_loss', rule='less',
                        patience=10),
)
