"""Training and explaining live: the training session, panel, plots, hidden states, analysis,
probe, and the unrolled view.
"""
