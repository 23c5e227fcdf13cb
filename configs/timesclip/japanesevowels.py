# TimesCLIP (real frozen towers) on JapaneseVowels: 12 LPC coefficients, 7-29 steps (padded to
# 29, the longest of TRAIN and TEST), 9 speakers, 270 TRAIN / 370 TEST. See uea_real_towers.py.
# Early curve: python tools/timesclip/early_curve.py configs/timesclip/japanesevowels.py
#     --steps 4 8 12 16 20 29
_base_ = ['./uea_real_towers.py']

num_steps = 29
model = dict(num_classes=9, data_preprocessor=dict(num_variates=12))
train_dataloader = dict(dataset=dict(name='JapaneseVowels', max_length=num_steps))
val_dataloader = dict(dataset=dict(name='JapaneseVowels', max_length=num_steps))
test_dataloader = dict(dataset=dict(name='JapaneseVowels', max_length=num_steps))
