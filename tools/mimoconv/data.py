"""Fashion-MNIST IDX reader (gzip + numpy) and dataset constants."""
import gzip
import os

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# Computed over the 60000 training images (pixels / 255); see tools/train.py --print-stats.
MEAN = 0.2860
STD = 0.3530


def read_idx(path):
    """Read an IDX file (optionally gzipped) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: bad IDX magic")
    dtype = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[data[2]]
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=dtype, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: size mismatch")
    return arr.reshape(dims)


def load_split(root=DEFAULT_DIR, split="train"):
    """Returns (images uint8 (N,28,28), labels int64 (N,))."""
    prefix = "train" if split == "train" else "t10k"
    imgs = read_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    return imgs, labels


def normalise(imgs_u8, mean=MEAN, std=STD):
    """uint8 (N,H,W) -> float32 NCHW (N,1,H,W), (x/255 - mean)/std."""
    x = imgs_u8.astype(np.float32) / 255.0
    return ((x - mean) / std)[:, None, :, :]
