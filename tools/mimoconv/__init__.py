"""MIMOConv (MIMONets CNN family) tooling for mimovk: PyTorch model, numpy reference, data."""
