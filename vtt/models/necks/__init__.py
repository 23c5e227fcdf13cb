from .variate_selection import VariateSelection

__all__ = ['VariateSelection']
