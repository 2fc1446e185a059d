"""Image classification with the zoo's classification forms."""
