# Furnace-style paired current + video (SYNTHETIC: vtt/datasets/synthetic/furnace.py, generated
# in memory, deterministic). The current shows an abnormal episode `lead` steps before the
# video; labels come from the video. Windows of 8 video steps (current: 8 samples per step);
# the current window starts `offset` steps before the video window. Runs are split 60/20/20
# into train/val/test. Your own records: data_file='furnace.npz' in the same layout
# (docs/research_lines/cmg.md, "the data contract").
lead = 4
furnace = dict(type='FurnaceDataset', data_file=None, generator=dict(lead=lead, seed=0),
               window=8, stride=4, offset=lead, max_offset=10)
loader = dict(num_workers=0, collate_fn=dict(type='default_collate'))

train_dataloader = dict(**loader, batch_size=80, sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(**furnace, split='train'))
val_dataloader = dict(**loader, batch_size=256, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(**furnace, split='val'))
test_dataloader = dict(**loader, batch_size=256,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset=dict(**furnace, split='test'))
