# Weather-chart gate data: a folder in the meteo data contract (docs/research_lines/meteo.md),
# seeded stratified 70/15/15 split. Training images get the office-style augmentations; val and
# test get watermark, title and JPEG too (the plan's "mimic the real distribution"), seeded per
# image so every evaluation sees the same images. All resized to the gate's 320 x 240.
data_root = 'data/meteo'
image_hw = (240, 320)

train_pipeline = [
    dict(type='LogoWatermark', prob=0.35),
    dict(type='ChartTitle', prob=0.7),
    dict(type='RandomAreaCrop', area=(0.5, 0.8), prob=0.5),
    dict(type='JpegCompress', quality=(30, 90), prob=0.5),
    dict(type='TorchVisionTransform', transform='Resize', size=image_hw),
]
eval_pipeline = [
    dict(type='LogoWatermark', prob=0.35),
    dict(type='ChartTitle', prob=0.7),
    dict(type='JpegCompress', quality=(30, 90), prob=0.5),
    dict(type='TorchVisionTransform', transform='Resize', size=image_hw),
]
gate_data = dict(type='MeteoChartDataset', data_root=data_root, task='gate',
                 split_by='stratified', ratios=(0.7, 0.15, 0.15), seed=0)

train_dataloader = dict(
    batch_size=16, num_workers=0, collate_fn=dict(type='default_collate'),
    sampler=dict(type='ClassBalancedSampler'),  # about 1:1 charts and non-charts per batch
    dataset=dict(gate_data, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=0, collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(gate_data, split='val', pipeline=eval_pipeline, pipeline_seed=1))
test_dataloader = dict(
    batch_size=32, num_workers=0, collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(gate_data, split='test', pipeline=eval_pipeline, pipeline_seed=2))
val_evaluator = dict(type='BinaryClsMetric')  # + the best-F1 threshold, for calibration
test_evaluator = dict(type='BinaryClsMetric', calibrate=False)
