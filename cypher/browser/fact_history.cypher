// A fact's history including invalidated versions: every fact, current or not, with the
// same source entity and relation type (so "Ana WORKS_AT Acme", ended, and "Ana WORKS_AT
// Initech", which replaced it), oldest first, with what replaced each.
// Parameters:
//   :param partition => 'u:alice'
//   :param fact_id => '<fact id, e.g. from a search result>'
MATCH (ref:FactRef {id: $fact_id})
WHERE ref.partition = $partition
MATCH (a:Entity {id: ref.source_id})-[f]->(:Entity)
WHERE f.id = $fact_id
MATCH (a)-[version]->(b:Entity)
WHERE version.partition = $partition AND type(version) = type(f)
RETURN version.id AS id,
       a.name AS source,
       type(version) AS relation,
       b.name AS target,
       version.fact AS fact,
       version.valid_at AS valid_at,
       version.invalid_at AS invalid_at,
       version.created_at AS learned_at,
       version.expired_at AS expired_at,
       version.invalidated_by AS replaced_by,
       version.invalid_at IS NULL AND version.expired_at IS NULL AS current
ORDER BY version.created_at ASC, version.id ASC
