# Weather-chart product data (stage 3): meteo_gate.py's folder, split and augmentations, the
# weather charts that have a product, wrapped by MeteoProductDataset: each example is the image,
# its elements (ground truth here; the cascade uses the element stage's predictions, see
# elements_from/detected_file), the candidate products (half-match filter; in training also
# the answer's hard negatives and the answer itself, shuffled) and the answer.
_base_ = ['./meteo_gate.py']

charts = dict(type='MeteoChartDataset', data_root='data/meteo', split_by='stratified',
              ratios=(0.7, 0.15, 0.15), seed=0)
products = dict(type='MeteoProductDataset', elements_from='truth', threshold=0.5,
                negative_range=(0.3, 0.8), name_field='en', product_field='zh')
loader = dict(num_workers=0, collate_fn=dict(type='vtt.product_collate'))

train_dataloader = dict(
    _delete_=True, **loader, batch_size=2,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(products, train=True, seed=0,
                 charts=dict(charts, split='train', pipeline={{_base_.train_pipeline}})))
val_dataloader = dict(
    _delete_=True, **loader, batch_size=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(products, charts=dict(charts, split='val', pipeline={{_base_.eval_pipeline}},
                                       pipeline_seed=1)))
test_dataloader = dict(
    _delete_=True, **loader, batch_size=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(products, charts=dict(charts, split='test', pipeline={{_base_.eval_pipeline}},
                                       pipeline_seed=2)))
# top-1/3/5, ECE (15 bins), element consistency, latency; on validation also the fitted
# temperature (TemperatureScalingHook stores it in the model), never on test
val_evaluator = dict(_delete_=True, type='CandidateRankingMetric', fit_temperature=True)
test_evaluator = dict(_delete_=True, type='CandidateRankingMetric')
