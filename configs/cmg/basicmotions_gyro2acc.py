# The reverse direction of basicmotions_acc2gyro.py: the head learns from GYROSCOPE codes and
# is applied zero-shot to the accelerometer (test/acc/*).
_base_ = ['./basicmotions_acc2gyro.py']

model = dict(train_modality='gyro')
