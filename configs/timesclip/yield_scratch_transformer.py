# Yield ablation E5, the seed's "original" baseline: no CLIP at all. The language branch is a
# from-scratch, fully trainable transformer (4 pre-norm layers, 256 wide) over the same
# numeric patches; no vision, no contrastive loss, no variate selection.
_base_ = ['./yield_full.py']

model = dict(
    vision_encoder=None, renderer=None, contrastive_loss=None, variate_selection=None,
    text_encoder=dict(_delete_=True, type='TransformerTextEncoder', hidden_size=256,
                      num_layers=4, num_heads=4, dropout=0.1),
)
