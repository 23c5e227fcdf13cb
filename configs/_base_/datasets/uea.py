# A UEA/UCR archive: `name` from the copies bundled with aeon (data_root=None) or
# <data_root>/<name>_TRAIN.ts and _TEST.ts. 'train'/'val' are a stratified split of TRAIN
# (selection on val); 'test' is the TEST file, used only for the final report. `max_length`
# None pads every series to the longest; an integer keeps the first steps (early classification).
uea = dict(type='UEADataset', name='BasicMotions', data_root=None, val_ratio=0.2, split_seed=42,
           max_length=None)

train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(**uea, split='train'),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(**uea, split='val'),
)
test_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(**uea, split='test'),
)
val_evaluator = dict(type='SingleLabelMetric')
test_evaluator = dict(type='SingleLabelMetric')
