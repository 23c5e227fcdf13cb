# Weather-chart element data (multi-label): the charts of a folder in the meteo data contract
# (docs/research_lines/meteo.md), non-weather images left out, seeded stratified 70/15/15
# split. Augmentations as for the gate (meteo_gate.py): office-style watermark, title, crop
# and JPEG in training; watermark, title and JPEG, seeded per image, on val and test. Resized
# to 320 x 240.
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
elements_data = dict(type='MeteoChartDataset', data_root=data_root, task='elements',
                     split_by='stratified', ratios=(0.7, 0.15, 0.15), seed=0)

train_dataloader = dict(
    batch_size=32, num_workers=0, collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(elements_data, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=0, collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(elements_data, split='val', pipeline=eval_pipeline, pipeline_seed=1))
test_dataloader = dict(
    batch_size=32, num_workers=0, collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(elements_data, split='test', pipeline=eval_pipeline, pipeline_seed=2))

# Both decodings of the CNN-RNN head side by side: the parallel BCE head (scores ranked for
# mAP, decisions at per-label thresholds) and the beam search (label sets; its scores are the
# beam pool's probability per label). On validation the parallel head's best-F1 thresholds are
# reported for ThresholdCalibrationHook; on test they are not.
val_evaluator = [
    dict(type='MultiLabelMetric', prefix='parallel', label_key='parallel_label',
         calibrate=True),
    dict(type='MultiLabelMetric', prefix='beam', score_key='beam_score', label_key='beam_label'),
]
test_evaluator = [
    dict(type='MultiLabelMetric', prefix='parallel', label_key='parallel_label'),
    dict(type='MultiLabelMetric', prefix='beam', score_key='beam_score', label_key='beam_label'),
]
