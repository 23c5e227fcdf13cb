# The CMG cross-modal classifier for two series modalities: the semantic encoders and the
# quantizer of cmg_series_pretrain.py, frozen; head Linear(256, 256) -> max over time ->
# Linear(256, C), trained on `train_modality` only.
_base_ = ['./cmg_series_pretrain.py']

model = dict(
    _delete_=True,
    type='CMGCrossModalClassifier',
    num_classes=4,
    train_modality='acc',
    modalities={{_base_.model.modalities}},
    quantizer={{_base_.model.quantizer}},
    head=dict(type='TemporalMaxClsHead', hidden_channels=256),
    pretrained=None,
    data_preprocessor={{_base_.model.data_preprocessor}},
)
