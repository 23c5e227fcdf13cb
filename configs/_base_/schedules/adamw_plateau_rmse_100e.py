# The yield seed's training strategy: adamw_plateau_100e.py (AdamW 1e-4, grad-norm clip 1.0,
# ReduceLROnPlateau factor 0.5 / patience 5, at most 100 epochs) with weight decay 1e-5 and the
# plateau watched on validation RMSE.
_base_ = ['./adamw_plateau_100e.py']

optim_wrapper = dict(optimizer=dict(weight_decay=1e-5))
param_scheduler = dict(monitor='regression/rmse', rule='less')
