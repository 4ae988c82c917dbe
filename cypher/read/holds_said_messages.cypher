// Whether the partition holds a message someone said: an episode that is not the record of an
// add_facts import (role $record_role, name $record_name: "system", "add_facts"), the rule of
// graphmem.recall.flow._said, which drops such records from recall's message lists. The whole
// partition counts (agent_id and run_id do not narrow it), as on the embedded store. EXISTS
// stops at the first such episode; in a partition of import records only it reads each
// record's role and name (a seek on the partition index; no text, no vector).
// Returns one row: said (BOOLEAN).
// Parameters: $partition, $record_role, $record_name.
RETURN EXISTS {
  MATCH (ep:Episode {partition: $partition})
  WHERE NOT coalesce(ep.role = $record_role AND ep.name = $record_name, false)
} AS said
