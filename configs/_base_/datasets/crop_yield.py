# Yield regression on crop time series: wide CSV `<variate>_<step>` + a numeric `yield`
# column (any name: `target_column`), 14 variates; the first `num_steps` steps are kept (the
# seed's --input_steps 12). A 72/8/20 split stratified by target quintiles (split_seed 42).
# Point all three `data_file`s at your copy.
data_file = 'data/yield.csv'
num_steps = 12

dataset_common = dict(
    type='CSVRegressionDataset',
    data_file=data_file,
    target_column='yield',
    num_steps=num_steps,
    split_ratios=(0.72, 0.08, 0.2),
    split_seed=42,
)

train_dataloader = dict(
    batch_size=32,
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

val_evaluator = dict(type='RegressionMetric')   # RMSE, MAE, R2, MAPE
test_evaluator = dict(type='RegressionMetric')
