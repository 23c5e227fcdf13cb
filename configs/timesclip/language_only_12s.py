# Ablation of dual_12s: Language branch only (no vision branch, hence no contrastive loss).
_base_ = ['./dual_12s.py']

model = dict(vision_encoder=None, renderer=None)
