# The product stage's QLoRA schedule (the plan): AdamW at 2e-4 with cosine decay to 1e-5,
# batch 2 x gradient accumulation 16 (an effective batch of 32), validation every epoch,
# early stop after 3 validations without a better top-1. bf16: the 4-bit matmuls compute in
# bf16 (HFCausalLM compute_dtype); ChartProductClassifier autocasts the rest to bf16 on GPUs
# that support it.
max_epochs = 10

optim_wrapper = dict(type='OptimWrapper', accumulative_counts=16,
                     optimizer=dict(type='AdamW', lr=2e-4, weight_decay=0.0))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs,
                        eta_min=1e-5, convert_to_iter_based=True)]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
