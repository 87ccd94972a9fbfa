DROP FUNCTION deliveries_claim(integer, interval);
