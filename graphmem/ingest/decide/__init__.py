"""Step 5 of the add flow: deciding flagged items (the deterministic policy, the batched LLM
resolver and its prompts, and the guards every model answer must pass)."""
