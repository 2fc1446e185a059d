"""Task heads on the shared backbones. Importing this package registers every model."""
