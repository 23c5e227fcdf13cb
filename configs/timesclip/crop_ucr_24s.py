# TimesCLIP on UCR Crop, early classification: only the first 24 of 46 steps (see crop_ucr_46s.py).
_base_ = ['./crop_ucr_46s.py']

num_steps = 24
train_dataloader = dict(dataset=dict(max_length=num_steps))
val_dataloader = dict(dataset=dict(max_length=num_steps))
test_dataloader = dict(dataset=dict(max_length=num_steps))
