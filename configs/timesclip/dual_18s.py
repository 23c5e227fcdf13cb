# Input-length ablation of dual_12s: the first 18 of 37 steps.
_base_ = ['./dual_12s.py']

num_steps = 18
train_dataloader = dict(dataset=dict(num_steps=num_steps))
val_dataloader = dict(dataset=dict(num_steps=num_steps))
test_dataloader = dict(dataset=dict(num_steps=num_steps))
