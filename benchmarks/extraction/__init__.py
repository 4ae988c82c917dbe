"""LLM extraction and update decisions on a labelled chat set, before and after the guards."""
