# Input-length ablation of dual_12s: the first 37 of 37 steps.
_base_ = ['./dual_12s.py']

num_steps = 37
train_dataloader = dict(dataset=dict(num_steps=num_steps))
val_dataloader = dict(dataset=dict(num_steps=num_steps))
test_dataloader = dict(dataset=dict(num_steps=num_steps))
