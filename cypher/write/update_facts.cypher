// Invalidations and provenance merges of stored facts, found through the fact registry
// (index seek) and one expand from each source entity; the registry node's validity times
// follow (fact search filters on them). Ids not in the partition (deleted
// meanwhile, or another user's) are skipped.
// Parameters: $partition, $ids (LIST<STRING>: every fact id in either map),
//   $invalidations: MAP fact id -> {invalid_at, expired_at, invalidated_by},
//   $merges: MAP fact id -> LIST<STRING> episode ids to add (deduplicated, in order).
MATCH (ref:FactRef)
WHERE ref.id IN $ids AND ref.partition = $partition
MATCH (:Entity {id: ref.source_id})-[r]->(:Entity)
WHERE r.id = ref.id AND r.partition = $partition
WITH ref, r, $invalidations[r.id] AS invalidation, $merges[r.id] AS added
FOREACH (i IN CASE WHEN invalidation IS NULL THEN [] ELSE [invalidation] END |
  SET r.invalid_at = i.invalid_at,
      r.expired_at = i.expired_at,
      r.invalidated_by = i.invalidated_by,
      ref.invalid_at = i.invalid_at,
      ref.expired_at = i.expired_at)
FOREACH (episode_ids IN CASE WHEN added IS NULL THEN [] ELSE [added] END |
  SET r.episodes = coalesce(r.episodes, [])
                   + [x IN episode_ids WHERE NOT x IN coalesce(r.episodes, [])])
RETURN count(r) AS updated
