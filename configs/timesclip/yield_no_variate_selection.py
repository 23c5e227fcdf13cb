# Yield ablation E3: no variate selection (vision + CLIP-text + contrastive loss).
_base_ = ['./yield_full.py']

model = dict(variate_selection=None)
