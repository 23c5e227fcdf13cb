# The reverse of hapt_acc2gyro.py: the head learns from gyroscope codes; test/acc/* is the
# zero-shot transfer.
_base_ = ['./hapt_acc2gyro.py']

model = dict(train_modality='gyro')
