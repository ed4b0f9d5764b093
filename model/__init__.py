"""Everything numeric: datasets, classifiers, trainer, extraction, projection, cache.

No Dash imports here; TensorFlow is imported lazily inside functions.
"""
