// Wait until every index is ONLINE (indexes populate in the background after creation).
// Parameters: $timeout (INTEGER seconds).
CALL db.awaitIndexes($timeout)
