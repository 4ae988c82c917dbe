// Entities whose key, or one of whose aliases' keys, is in $keys. e.alias_keys holds
// normalize_key() of the entity's key and of every alias; $keys are normalised the same
// way by the store. Ordered by (created_at, id), each entity once.
// Parameters: $partition, $keys (LIST<STRING>).
MATCH (e:Entity {partition: $partition})
WHERE e.key IN $keys
   OR any(alias_key IN coalesce(e.alias_keys, []) WHERE alias_key IN $keys)
WITH e
ORDER BY e.created_at ASC, e.id ASC
RETURN e {
  .id, .partition, .user_id, .name, .key, .type, .aliases, .created_at, .updated_at
} AS entity, null AS embedding
