# Yield ablation E2: no contrastive loss (vision + CLIP-text + variate selection).
_base_ = ['./yield_full.py']

model = dict(contrastive_loss=None)
