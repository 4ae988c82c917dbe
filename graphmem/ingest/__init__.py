"""The add flow (DESIGN.md): messages in, one WriteBatch applied.

flow.py        AddFlow: the six steps top-down (episode, extract, entities, detect, decide,
               write) and the plan / apply / re-plan loop
episodes.py    1: an add's episodes, which are extracted, regrouping for reprocess
context.py     2: what the extractor is told (speakers, history, known entities)
entities.py    3: names -> stored entities (key, fuzzy, embedding); ambiguity
candidates.py  3: extracted relations -> proposed facts between resolved entities
detect.py      4: ConflictDetector, the policy of what needs a decision, and its reads
flags.py       the shapes detect and decide share (Flag, Decision, UpdateResolver)
decide/        5: Decider, the deterministic policy, the LLM resolver and its prompts, guards
plan.py        6: decisions -> one WriteBatch (Plan, PlanMemo)

Only AddFlow writes (the episodes, the batch) and episodes.mark_failed (an episode status).
"""
