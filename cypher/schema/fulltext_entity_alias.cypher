// Full-text (Lucene) index over an entity's alias terms: the index read/find_entities_by_key
// and read/link_candidates look keys up in, so linking a name is a seek, not a scan of the
// partition's entities (a list property such as alias_keys is covered by no range index).
// `alias_terms` holds "<partition> <alias key>" for every key in alias_keys; the keyword
// analyzer keeps each list element as ONE term, exactly as written, so a query for one
// quoted element finds exactly the entities of that partition holding that alias key.
CREATE FULLTEXT INDEX graphmem_entity_alias IF NOT EXISTS
FOR (e:Entity) ON EACH [e.alias_terms]
OPTIONS {indexConfig: {`fulltext.analyzer`: 'keyword', `fulltext.eventually_consistent`: false}}
