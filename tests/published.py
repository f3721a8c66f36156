"""Published reference numbers the tests compare against (independent of the package's data)."""

# Bicubic baselines (PSNR, SSIM; Y channel, border = scale) printed in RCAN (ECCV 2018) Table 3
# and its successors; reproduced by the legacy Y pipeline.
PUBLISHED_BICUBIC = {
    ("Set5", 2): (33.66, 0.9299),
    ("Set5", 3): (30.39, 0.8682),
    ("Set5", 4): (28.42, 0.8104),
    ("Set14", 2): (30.24, 0.8688),
    ("Set14", 3): (27.55, 0.7742),
    ("Set14", 4): (26.00, 0.7027),
}
