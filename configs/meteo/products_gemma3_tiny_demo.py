# Offline CPU demo of the product classifier (products_gemma3_4b_qlora.py) on SYNTHETIC charts:
# - Data: the synthetic charts of the gate demo (data/meteo_demo/, generated deterministically
#   on first use; 12 products whose element sets overlap on purpose) - not real charts.
# - Model: a tiny RANDOM Gemma3ForConditionalGeneration ('tiny_gemma3_meteo': 2 SigLIP + 2
#   Gemma layers of width 64, 64 px images as 16 soft tokens, a byte-level tokenizer trained
#   on the prompt texts; written once into vtt's cache) loaded through exactly the real path:
#   from_pretrained, 4-bit NF4 + double quantisation with the vision tower and lm_head kept,
#   LoRA r=8 on the language model. Weights that start random have to learn the task from
#   nothing, so unlike the real config this demo also trains lm_head (LoRA modules_to_save;
#   it is saved with the adapters) and uses a larger learning rate and batch.
# - 12 epochs, batch 8 without accumulation, lr 2e-3 -> 1e-5.
# Every evaluation also reports product/overlap_baseline_top1: the element-overlap baseline
# (the most specific best-matching candidate) on the same images and elements.
_base_ = ['./products_gemma3_4b_qlora.py']

charts = dict(type='SyntheticMeteoChartDataset', data_root='data/meteo_demo',
              generator=dict(seed=0, num_meteo=480, num_negative=240))
train_dataloader = dict(batch_size=8, dataset=dict(charts=charts))
val_dataloader = dict(dataset=dict(charts=charts))
test_dataloader = dict(dataset=dict(charts=charts))

model = dict(lm=dict(pretrained='tiny_gemma3_meteo',
                     lora=dict(modules_to_save=['lm_head'])))
max_epochs = 12
optim_wrapper = dict(accumulative_counts=1, optimizer=dict(lr=2e-3))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=max_epochs,
                        eta_min=1e-5, convert_to_iter_based=True)]
train_cfg = dict(max_epochs=max_epochs)
