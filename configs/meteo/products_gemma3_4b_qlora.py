# Meteo stage 3, the product classifier, with the plan's real settings: Gemma 3 4B
# (Gemma3ForConditionalGeneration, instruction-tuned) in 4-bit NF4 with double quantisation
# and bf16 compute, the SigLIP vision tower and lm_head kept unquantised, LoRA r=8 / alpha 16
# on the language model's attention and MLP projections; the prompt (chat template): system
# "weather chart expert", user = image + detected elements + candidate products + instruction;
# loss on the answer tokens only; candidates scored by log-likelihood with the prompt encoded
# once (exact top-k and a probability each), temperature fitted on validation.
#
# Needs (missing on a fresh machine; the run stops with a message naming the config key):
#   data/meteo/                    your charts in the data contract (docs/research_lines/meteo.md)
#   checkpoints/gemma-3-4b-it/     the model, saved on a machine with network access by
#       from transformers import AutoProcessor, Gemma3ForConditionalGeneration
#       for c in (AutoProcessor, Gemma3ForConditionalGeneration):
#           c.from_pretrained('google/gemma-3-4b-it').save_pretrained('checkpoints/gemma-3-4b-it')
#     or set model.lm.pretrained='google/gemma-3-4b-it' (a hub id; needs network and the
#     model's licence accepted).
# Options: model.lm.gradient_checkpointing=True (less memory, slower; for an 8 GB GPU);
# model.lm.prepare_kbit=False (keeps the embedding in bf16).
_base_ = [
    '../_base_/datasets/meteo_products.py',
    '../_base_/schedules/meteo_products_qlora.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ChartProductClassifier',
    lm=dict(type='HFCausalLM', pretrained='checkpoints/gemma-3-4b-it',
            config_key='model.lm.pretrained',
            model_class='Gemma3ForConditionalGeneration', quantization='nf4',
            compute_dtype='bfloat16', double_quant=True,
            skip_modules=['model.vision_tower', 'lm_head'],
            lora=dict(r=8, alpha=16, dropout=0.05,
                      target_modules=r'.*language_model.*\.(q_proj|k_proj|v_proj|o_proj|'
                                     r'gate_proj|up_proj|down_proj)'),
            gradient_checkpointing=False),
)
default_hooks = dict(
    checkpoint=dict(save_best='product/top1', rule='greater'),
    confusion_matrix=None,  # candidate lists, not one fixed class set
)
custom_hooks = [
    dict(type='TemperatureScalingHook'),
    dict(type='ResumableEarlyStoppingHook', monitor='product/top1', rule='greater',
         patience=3),
]
