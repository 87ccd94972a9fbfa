DROP FUNCTION outbox_due(integer);
