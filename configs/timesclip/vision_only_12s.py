# Ablation of dual_12s: Vision branch only (no language branch, hence no contrastive loss).
_base_ = ['./dual_12s.py']

model = dict(text_encoder=None, patch_tokenizer=None)
