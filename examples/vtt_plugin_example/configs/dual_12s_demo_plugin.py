# The TimesCLIP demo with two components from this external package: a GRU language branch
# instead of the CLIP text tower, and a label-smoothing loss instead of the focal loss.
_base_ = ['../../../configs/timesclip/dual_12s_demo.py']

custom_imports = dict(imports=['vtt_plugin_example'], allow_failed_imports=False)

model = dict(
    text_encoder=dict(_delete_=True, type='GRUSequenceEncoder', hidden_size=64, output_dim=64),
    head=dict(loss=dict(_delete_=True, type='LabelSmoothingCrossEntropy', smoothing=0.1)),
)
