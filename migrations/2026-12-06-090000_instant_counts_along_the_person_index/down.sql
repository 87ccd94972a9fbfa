DROP FUNCTION deliveries_instant_counts(uuid[], timestamptz);
