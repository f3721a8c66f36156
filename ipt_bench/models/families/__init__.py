"""Built-in model families, one file each; importing a file registers its family and variants."""

#: Loaded first, in this order (the registry's listing order); other family files follow by name.
FIRST = ("ipt", "cnn", "baselines")
