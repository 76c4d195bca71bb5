-- Telling people. The dispatcher reads the outbox entries not yet told and
-- turns each event into an in-app message and a delivery per person and
-- outbound channel: once per (event, person, channel), by the unique keys.

-- When the dispatcher told people of each outbox entry. Entries are taken
-- by this mark, not by a cursor over ids: on PostgreSQL a lower id may
-- commit after a higher one. What is there at upgrade is not news.
ALTER TABLE outbox ADD COLUMN told_at INTEGER;
UPDATE outbox SET told_at = 0;
CREATE INDEX outbox_untold ON outbox (id) WHERE told_at IS NULL;

-- The bell: messages in the app, in words chosen when read (zh or en).
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    event_key TEXT NOT NULL,
    topic TEXT NOT NULL,
    params TEXT NOT NULL,
    urgent BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    read_at INTEGER,
    UNIQUE (event_key, user_id)
);
CREATE INDEX messages_user ON messages (user_id, id);
CREATE INDEX messages_unread ON messages (user_id) WHERE read_at IS NULL;

-- One message to one person through one provider. `message_id` goes to the
-- provider with it (Alibaba's OutId, Tencent's SessionContext), so that a
-- message resent after a crash is recognised. The address is looked up and
-- unsealed only when sending (`address_ref`: resident:ID, case:ID, staff:ID,
-- email:USER_ID); the log keeps it masked.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    event_key TEXT NOT NULL,
    recipient TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id),
    channel TEXT NOT NULL,
    topic TEXT NOT NULL,
    params TEXT NOT NULL,
    urgent BOOLEAN NOT NULL DEFAULT FALSE,
    org_path TEXT NOT NULL,
    address_ref TEXT NOT NULL,
    address_masked TEXT,
    -- the phone's blind index, for the daily cap and stop replies
    address_index TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    lease_until INTEGER,
    claimed_by TEXT,
    provider_id TEXT,
    error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    delivered_at INTEGER,
    UNIQUE (event_key, recipient, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state IN ('queued', 'sending');
CREATE INDEX deliveries_provider ON deliveries (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX deliveries_path ON deliveries (org_path, id);
CREATE INDEX deliveries_address ON deliveries (address_index, sent_at) WHERE address_index IS NOT NULL;

-- What a person chose: an email address (sealed), quiet hours in minutes
-- after local midnight, and per topic the channels (a comma list).
CREATE TABLE notify_settings (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    email_sealed TEXT,
    email_masked TEXT,
    quiet_from INTEGER NOT NULL,
    quiet_to INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE notify_choices (
    user_id INTEGER NOT NULL REFERENCES users (id),
    topic TEXT NOT NULL,
    channels TEXT NOT NULL,
    PRIMARY KEY (user_id, topic)
);

-- Phones that replied 退订 (or stopped SMS on the page): no more SMS.
CREATE TABLE sms_stops (
    phone_index TEXT PRIMARY KEY,
    at INTEGER NOT NULL
);

-- Staff work groups (a grid's, a community's) told through their robot:
-- WeCom or DingTalk. The robot's address holds its key: sealed, with the
-- DingTalk signing secret.
CREATE TABLE staff_groups (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES org_nodes (id),
    org_path TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    url_sealed TEXT NOT NULL,
    secret_sealed TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    removed_at INTEGER
);
CREATE INDEX staff_groups_path ON staff_groups (org_path);
