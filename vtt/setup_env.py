"""Register every vtt component and make ``'vtt'`` the default registry scope.

This module sits above every vtt layer (it imports them all); nothing in vtt imports it except
the entry points (tools, ``vtt.apis``, tests).
"""
import datetime
import warnings

from mmengine import DefaultScope

__all__ = ['register_all_modules']


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every vtt module that registers components, and set the default scope.

    Args:
        init_default_scope (bool): Make ``'vtt'`` the current default scope, so that
            ``type='Name'`` in a config resolves in vtt's registries first. Defaults to True.
    """
    import vtt.datasets  # noqa: F401
    import vtt.engine  # noqa: F401
    import vtt.evaluation  # noqa: F401
    import vtt.models  # noqa: F401
    import vtt.visualization  # noqa: F401
    from vtt.utils.compat import apply_mmengine_patches

    apply_mmengine_patches()

    if init_default_scope:
        never_created = (DefaultScope.get_current_instance() is None
                         or not DefaultScope.check_instance_created('vtt'))
        if never_created:
            DefaultScope.get_instance('vtt', scope_name='vtt')
            return
        current_scope = DefaultScope.get_current_instance()
        if current_scope.scope_name != 'vtt':
            warnings.warn('The current default scope '
                          f'"{current_scope.scope_name}" is not "vtt", '
                          '`register_all_modules` will force the current '
                          'default scope to be "vtt". If this is not '
                          'expected, please set `init_default_scope=False`.')
            # avoid name conflict
            new_instance_name = f'vtt-{datetime.datetime.now()}'
            DefaultScope.get_instance(new_instance_name, scope_name='vtt')
