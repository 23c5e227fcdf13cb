# TEMPLATE: TimeMAE pretraining on HAR in the TS-TCC layout (data/HAR/{train,val,test}.pt with
# `samples` [N, 9, 128] and `labels` [N], 6 classes). The data is not bundled: download it
# yourself and point data_root at the folder. The notes found d_model 256 better on HAR (92.91
# vs 91.31 accuracy); to try it, set embed_dims of window_slicer, encoder, decoder and codebook
# (and of the classifier's slicer and encoder) together.
_base_ = [
    '../_base_/models/timemae_pretrain.py',
    '../_base_/schedules/timemae_pretrain_100e.py',
    '../_base_/default_runtime.py',
]

har = dict(type='HARPtDataset', data_root='data/HAR')
model = dict(
    data_preprocessor=dict(num_variates=9),
    window_slicer=dict(in_channels=9),
)
train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(**har, split='train'),
)
default_hooks = dict(checkpoint=dict(interval=25, save_last=True))
custom_hooks = [dict(type='TrainStatsHook'), dict(type='RNGStateHook')]
