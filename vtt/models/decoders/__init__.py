from .feature_decoders import MapDecoder, VectorDecoder

__all__ = ['VectorDecoder', 'MapDecoder']
