"""GenLab's models, sampling, training, data and checkpoints. Pure torch; no UI imports."""
