DROP TABLE calendar_feeds;
DROP TABLE notification_prefs;
DROP TABLE notification_deliveries;
DROP TRIGGER outbox_notify ON outbox;
DROP TABLE outbox;
DROP FUNCTION outbox_notify();
