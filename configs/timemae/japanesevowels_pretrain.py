# TimeMAE self-supervised pretraining on JapaneseVowels (UEA, bundled with aeon): 12 variates,
# 7-29 steps (padded with a mask). Same recipe as BasicMotions.
_base_ = ['./basicmotions_pretrain.py']

model = dict(data_preprocessor=dict(num_variates=12))
train_dataloader = dict(dataset=dict(name='JapaneseVowels'))
