// What changed since a date: facts learned (created_at) or ended (expired_at) since $since,
// newest first. Parameters:
//   :param partition => 'u:alice'
//   :param since => datetime('2024-03-01T00:00:00Z')
MATCH (a:Entity {partition: $partition})-[r]->(b:Entity)
WHERE r.partition = $partition
  AND (r.created_at >= $since OR r.expired_at >= $since)
RETURN CASE WHEN r.expired_at >= $since THEN 'ended' ELSE 'added' END AS change,
       coalesce(r.expired_at, r.created_at) AS at,
       a.name AS source,
       type(r) AS relation,
       b.name AS target,
       r.fact AS fact,
       r.id AS id
ORDER BY at DESC, id ASC
