// Connectivity and database check run once when the store is constructed.
RETURN 1 AS ok
