"""The `declic` console script for operators and marketers."""
