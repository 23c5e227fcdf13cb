# Ablation of dual_12s: Both branches, without the variate-selection neck.
_base_ = ['./dual_12s.py']

model = dict(variate_selection=None)
