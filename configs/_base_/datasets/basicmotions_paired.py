# UEA BasicMotions (bundled with aeon) as paired modalities: channels 0-2 accelerometer,
# 3-5 gyroscope of the same recording. 'train'/'val' are a stratified 80/20 split of TRAIN
# (normalisation from 'train'), 'test' the TEST file, used once for the final report.
paired = dict(type='PairedUEADataset', name='BasicMotions', data_root=None, val_ratio=0.2,
              split_seed=42, modalities=dict(acc=[0, 1, 2], gyro=[3, 4, 5]))
loader = dict(num_workers=0, collate_fn=dict(type='default_collate'))

train_dataloader = dict(**loader, batch_size=16, sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(**paired, split='train'))
val_dataloader = dict(**loader, batch_size=64, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(**paired, split='val'))
test_dataloader = dict(**loader, batch_size=64,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset=dict(**paired, split='test'))
