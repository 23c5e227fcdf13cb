# The 2018four crop-type data: wide CSV `<variate>_<step>` + `label`, 14 variates x 37 steps,
# 4 classes. Stratified 72/8/20 split (random_state 42); the first `num_steps` steps are kept.
# Point all three `data_file`s at your copy (see README, "Using your own 2018four.csv").
dataset_type = 'CSVTimeSeriesDataset'
data_file = 'data/2018four.csv'
num_steps = 12

dataset_common = dict(
    type=dataset_type,
    data_file=data_file,
    num_steps=num_steps,
    label_column='label',
    split_ratios=(0.72, 0.08, 0.2),
    split_seed=42,
)

train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(**dataset_common, split='train'),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(**dataset_common, split='val'),
)
test_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(**dataset_common, split='test'),
)

val_evaluator = dict(type='SingleLabelMetric')
test_evaluator = dict(type='SingleLabelMetric')
