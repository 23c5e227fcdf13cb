# The product classifier on a REAL pretrained language model that ships offline: Gemma 3 270M
# (text-only; converted once from the bundled GGUF into vtt's cache) through the same 4-bit
# NF4 + double quantisation + LoRA path as the 4B model. It cannot see images itself, so the
# chart enters LLaVA-style: the ImageNet MobileNetV2 (bundled offline) at 448 x 448 px gives a
# 14 x 14 x 1280 feature map, average-pooled to 2 x 2 = 4 visual tokens, which a trained MLP
# projects into Gemma's embedding space where the image would be in the prompt; the detected
# elements and the candidate products follow as text, as for the 4B model.
# - Data: the synthetic charts of the demo (data/meteo_demo/) - not real charts.
# - Trained: LoRA r=8 / alpha 16 on q,k,v,o,gate,up,down (1.9M), the projector (1.2M, at 5x
#   the learning rate) and the MobileNetV2 (2.2M, at 0.2x; BatchNorm statistics kept): with
#   ground-truth elements only the image tells apart products whose element sets are the same
#   (their titles differ), and frozen ImageNet features hardly carry that (see
#   tools/benchmarks/visual_token_probe.py). Saved: those weights only (22 MB), plus the base
#   model's source and hash.
# - For a CPU: batch 4 without accumulation, 4 epochs, lr 5e-4 -> 1e-5 (27 min on 2 cores);
#   fp32 4-bit matmuls (bf16 is slower on CPUs without AMX; on a GPU set
#   model.lm.compute_dtype='bfloat16').
_base_ = ['./products_gemma3_tiny_demo.py']

model = dict(
    lm=dict(_delete_=True, type='HFCausalLM', pretrained='gemma3_270m',
            config_key='model.lm.pretrained', quantization='nf4', compute_dtype='float32',
            double_quant=True, lora=dict(r=8, alpha=16, dropout=0.05)),
    visual=dict(encoder=dict(type='MobileNetV2Encoder', pretrained='imagenet', frozen=False,
                             out_type='feature_map', image_size=448),
                tokens=4),
)
train_dataloader = dict(batch_size=4)
max_epochs = 4
optim_wrapper = dict(accumulative_counts=1, optimizer=dict(lr=5e-4),
                     paramwise_cfg=dict(custom_keys={'visual_projector': dict(lr_mult=5.0),
                                                     'visual_encoder': dict(lr_mult=0.2)}))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs,
                        eta_min=1e-5, convert_to_iter_based=True)]
train_cfg = dict(max_epochs=max_epochs)
