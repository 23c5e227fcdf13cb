# Offline CPU demo of dual_12s: runs in minutes with no downloads.
# - Data: SYNTHETIC crop-phenology series with the 2018four schema and class sizes, generated
#   (deterministically) into data/demo/ on first use - not real data.
# - Model: the same TimesCLIP architecture, but both CLIP towers are small and RANDOMLY
#   INITIALISED (pretrained=None, built from the `config` dicts below) and images are 112 px.
#   Numbers from this config say that the pipeline works, not how CLIP features perform.
_base_ = ['./dual_12s.py']

demo_data = dict(type='SyntheticCropDataset', data_file='data/demo/crop_phenology_seed2018.csv',
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
train_cfg = dict(max_epochs=30)
default_hooks = dict(early_stopping=dict(patience=8))
