# Yield ablation E4: the frozen CLIP-text branch only (no vision, hence no contrastive loss;
# no variate selection).
_base_ = ['./yield_full.py']

model = dict(vision_encoder=None, renderer=None, contrastive_loss=None, variate_selection=None)
