__all__ = ['ground_truth']


def ground_truth(sample: dict, metric):
    """``sample['gt_label']``, or a KeyError that says which metric needed it."""
    if 'gt_label' not in sample:
        raise KeyError(f'{type(metric).__name__} needs ground-truth labels (gt_label) in the '
                       f'predictions; is the evaluated split labelled?')
    return sample['gt_label']
