-- WebSocket tickets are signed tokens now (auth::jwt, typ ws-ticket+jwt);
-- which ones were used is remembered in memory or in Redis until they
-- expire (realtime::tickets). Nothing of them is stored here any more.
DROP TABLE ws_tickets;
