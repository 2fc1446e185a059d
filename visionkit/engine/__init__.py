"""The one train/eval engine shared by every task."""
