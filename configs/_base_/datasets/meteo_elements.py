# Weather-chart element data (multi-label): meteo_gate.py's folder, split and augmentations
# (office-style watermark, title, crop and JPEG in training; watermark, title and JPEG, seeded
# per image, on val and test; 320 x 240), with the elements task (non-weather images left out)
# and plainly shuffled batches (multi-label images have no single class to balance).
_base_ = ['./meteo_gate.py']

train_dataloader = dict(batch_size=32, sampler=dict(_delete_=True, type='DefaultSampler',
                                                    shuffle=True),
                        dataset=dict(task='elements'))
val_dataloader = dict(dataset=dict(task='elements'))
test_dataloader = dict(dataset=dict(task='elements'))

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
