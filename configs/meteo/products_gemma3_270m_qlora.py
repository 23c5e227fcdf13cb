# The product classifier on a REAL pretrained language model that ships offline: Gemma 3 270M
# (text-only; converted once from the bundled GGUF into vtt's cache) through the same 4-bit
# NF4 + double quantisation + LoRA path as the 4B model. It cannot see images itself, so the
# chart enters LLaVA-style, as two views of the ImageNet MobileNetV2 (bundled offline), pooled
# into visual tokens that a trained MLP projects into Gemma's embedding space where the image
# would be in the prompt; the detected elements and the candidate products follow as text.
#   whole chart  224 x 224 px, frozen ImageNet weights     -> 7 x 7 map -> 2 x 2 = 4 tokens
#   title strip  top 15% of the chart, 64 x 576 px, its own -> 2 x 18 map -> 1 x 6 = 6 tokens
#                MobileNetV2, warmed up before the LM trains (VisualWarmupHook)
#   product      a linear product classifier on the strip's tokens (trained in the warm-up,
#                then frozen) -> softmax over the 12 products -> a trained map -> 1 token
# Why the strip: with ground-truth elements the prompt of two charts with the same element set
# is the same text, and for element sets that two products share only the title tells them
# apart; pooled into 4 tokens of the whole chart the title is lost (visual_token_probe.py).
# Why the warm-up: the LM's loss reaches the strip's encoder only through those few charts,
# and fine-tuning it with ImageNet's BatchNorm statistics kept does not learn to read; 10
# epochs of product classification on the training strips alone (batch statistics, 12-16 s
# an epoch) do, and the encoder is then frozen for the LM's training.
# Why the product token: the strip's 6 tokens carry the title (a linear probe reads it) but
# the LM did not learn to find it among everything else in them within 3-6 epochs; given the
# head's belief as one token it learns to use it in 2 epochs.
# Why the sampler: only 58 of the 336 training charts need the image (their elements fit two
# products); ClassBalancedSampler on MeteoProductDataset.sample_classes() makes them half of
# every epoch's draws.
# - Data: the synthetic charts of the demo (data/meteo_demo/) - not real charts.
# - Trained: LoRA r=8 / alpha 16 on q,k,v,o,gate,up,down (1.9M), the projector (1.2M) and the
#   product token's map (8K), both at 5x the learning rate; in the warm-up: the strip's
#   MobileNetV2 (2.2M) and the product head (92K). Saved: those weights only, plus the base
#   model's source and hash.
# - For a CPU: batch 4 without accumulation, 3 epochs, lr 5e-4 -> 1e-5; fp32 4-bit matmuls
#   (bf16 is slower on CPUs without AMX; on a GPU set model.lm.compute_dtype='bfloat16').
_base_ = ['./products_gemma3_tiny_demo.py']

model = dict(
    lm=dict(_delete_=True, type='HFCausalLM', pretrained='gemma3_270m',
            config_key='model.lm.pretrained', quantization='nf4', compute_dtype='float32',
            double_quant=True, lora=dict(r=8, alpha=16, dropout=0.05)),
    visual=dict(encoder=dict(type='MobileNetV2Encoder', pretrained='imagenet', frozen=True,
                             out_type='feature_map', image_size=None),
                views=[dict(box=(0, 0, 1, 1), size=(224, 224), grid=(2, 2)),
                       dict(box=(0, 0, 1, 0.15), size=(64, 576), grid=(1, 6),
                            encoder=dict(type='MobileNetV2Encoder', pretrained='imagenet',
                                         frozen=False, out_type='feature_map',
                                         image_size=None))],
                product_head=dict(num_products=12, views=[1])),
)
# half of every epoch's draws are charts whose elements fit several products (only the image
# decides them), so the LM sees enough of them to learn to look
train_dataloader = dict(batch_size=4, sampler=dict(_delete_=True, type='ClassBalancedSampler',
                                                   seed=0))
custom_hooks = [
    dict(type='VisualWarmupHook', epochs=10, lr=3e-4, batch_size=16, freeze_after=True),
    dict(type='TemperatureScalingHook'),
    dict(type='ResumableEarlyStoppingHook', monitor='product/top1', rule='greater', patience=3),
]
max_epochs = 3
optim_wrapper = dict(accumulative_counts=1, optimizer=dict(lr=5e-4),
                     paramwise_cfg=dict(custom_keys={'visual_projector': dict(lr_mult=5.0),
                                                 'visual_product_embed': dict(lr_mult=5.0)}))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs,
                        eta_min=1e-5, convert_to_iter_based=True)]
train_cfg = dict(max_epochs=max_epochs)
