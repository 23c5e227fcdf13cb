# Ablation of dual_12s: Both branches, without the InfoNCE alignment loss.
_base_ = ['./dual_12s.py']

model = dict(contrastive_loss=None)
