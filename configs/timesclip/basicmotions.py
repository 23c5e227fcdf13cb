# TimesCLIP (real frozen towers) on BasicMotions: 6 variates (accelerometer + gyroscope),
# 100 steps, 4 activities, 40 TRAIN / 40 TEST. See uea_real_towers.py.
_base_ = ['./uea_real_towers.py']

model = dict(num_classes=4, data_preprocessor=dict(num_variates=6))
train_dataloader = dict(dataset=dict(name='BasicMotions'))
val_dataloader = dict(dataset=dict(name='BasicMotions'))
test_dataloader = dict(dataset=dict(name='BasicMotions'))
