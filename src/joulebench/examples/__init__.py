"""Built-in examples that need no network: the image demo on scikit-learn's digits."""
