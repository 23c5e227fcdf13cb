# UCI-HAR in the TS-TCC layout: data/HAR/{train,val,test}.pt with `samples` [N, 9, 128] and
# `labels` [N], 6 classes (pre-split by the TS-TCC authors; 'test' is used only for the final
# report). The data is not bundled: download it yourself and point data_root at the folder.
har = dict(type='TSTCCDataset', data_root='data/HAR')
loader = dict(num_workers=0, collate_fn=dict(type='default_collate'))

train_dataloader = dict(**loader, batch_size=128,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(**har, split='train'))
val_dataloader = dict(**loader, batch_size=256,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(**har, split='val'))
test_dataloader = dict(**loader, batch_size=256,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset=dict(**har, split='test'))
val_evaluator = dict(type='SingleLabelMetric')
test_evaluator = dict(type='SingleLabelMetric')
