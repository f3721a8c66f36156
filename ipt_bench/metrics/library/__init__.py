"""Built-in metrics, one module each; every module registers its metric when imported."""

#: Loaded first, in this order (the listing order); other metric files follow by name.
FIRST = ("psnr", "ssim")
