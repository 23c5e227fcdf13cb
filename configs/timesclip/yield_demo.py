# Offline CPU demo of yield_full (E1): runs in minutes with no downloads.
# - Data: SYNTHETIC crop curves (2000 fields, the 2018four schema) with a yield that depends
#   mostly on the early season (vtt.datasets.synthetic.generate_crop_yield), generated
#   deterministically into data/demo/ on first use - not real data.
# - Model: the same architecture, but both CLIP towers are small and RANDOMLY INITIALISED
#   (pretrained=None, built from the `config` dicts below) and images are 112 px. Numbers say
#   that the pipeline works, not how CLIP features perform.
# - 20 epochs at most, lr 1e-3.
# The other ablations on the demo data: --cfg-options with the same model changes as
# yield_no_contrastive.py ... (see docs/research_lines/timesclip.md).
_base_ = ['./yield_full.py']

demo_data = dict(type='SyntheticYieldDataset', data_file='data/demo/crop_yield_seed2018.csv',
                 seed=2018)
train_dataloader = dict(dataset=demo_data)
val_dataloader = dict(dataset=demo_data)
test_dataloader = dict(dataset=demo_data)

tiny_vision = dict(image_size=112, patch_size=16, hidden_size=64, intermediate_size=128,
                   num_hidden_layers=2, num_attention_heads=2, projection_dim=64)
tiny_text = dict(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=2, projection_dim=64, max_position_embeddings=77,
                 eos_token_id=2)
model = dict(
    embed_dims=128,
    vision_encoder=dict(pretrained=None, config=tiny_vision),
    renderer=dict(image_size=112, line_width=1.5),
    text_encoder=dict(pretrained=None, config=tiny_text),
    patch_tokenizer=dict(num_heads=4),
    variate_selection=dict(num_heads=4),
    head=dict(hidden_channels=128),
)

optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=20)
default_hooks = dict(early_stopping=dict(patience=8))
