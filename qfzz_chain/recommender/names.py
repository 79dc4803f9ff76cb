"""The model registry's names, importable without numpy (the CLI lists them in ``--help`` at start-up)."""

MODEL_NAMES = (
    "popularity", "itemknn_seed", "userknn_seed", "itemknn", "userknn",
    "als", "ncf", "ease", "content", "social", "rp3beta", "ease_tags", "hybrid", "hybrid_fixed",
)
HYBRID_NAMES = ("hybrid", "hybrid_fixed")
DEFAULT_MODEL = "hybrid"
