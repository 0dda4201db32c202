"""What model families share: tabular preparation, the quiet Keras import."""
