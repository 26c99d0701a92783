-- Times are INTEGER unix seconds (UTC). Chat ids are Telegram chat ids.

-- A chat is a private conversation or a group. paused_at is set when
-- Telegram says the bot can no longer write there (403, chat not found);
-- a paused chat's codes are not polled until the person writes again.
CREATE TABLE chats (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL DEFAULT 'private',  -- private, group, supergroup, channel
    title       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    paused_at   INTEGER
);

-- A parcel is one tracking code, shared by every chat that tracks it, so
-- a code tracked by several chats is asked once per pass.
--   state: new       never answered yet
--          notfound  provider answered "not yet" (SRO-020)
--          active    found, not final
--          final     delivered, returned, lost (re-checked for a while)
--          expired   not found or final for too long: no longer polled
--          invalid   provider said the code is invalid (SRO-019)
--   provider: the provider that first found it; asked only of it afterwards.
--   next_pass: backoff counted in passes; due when passes.n >= next_pass.
--   misses: consecutive checks with nothing new (drives the backoff).
CREATE TABLE parcels (
    code            TEXT    PRIMARY KEY,
    state           TEXT    NOT NULL DEFAULT 'new',
    provider        TEXT    NOT NULL DEFAULT '',
    last_kind       TEXT    NOT NULL DEFAULT '',
    last_status     TEXT    NOT NULL DEFAULT '',
    last_event_at   INTEGER,
    created_at      INTEGER NOT NULL,
    found_at        INTEGER,
    final_at        INTEGER,
    checked_at      INTEGER,
    checked_by      TEXT    NOT NULL DEFAULT '',
    next_pass       INTEGER NOT NULL DEFAULT 0,
    misses          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX parcels_due ON parcels (state, checked_at);

-- Which chat tracks which code, with that chat's own description.
CREATE TABLE tracked (
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    code         TEXT    NOT NULL REFERENCES parcels (code) ON DELETE CASCADE,
    description  TEXT    NOT NULL DEFAULT '',
    added_at     INTEGER NOT NULL,
    PRIMARY KEY (chat_id, code)
);
CREATE INDEX tracked_code ON tracked (code);

-- Events of a parcel, deduplicated on event_key (codigo|tipo|instant|unit,
-- or a provider's own stable identity). kind is the classification made
-- from codigo+tipo (never from the text).
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    code         TEXT    NOT NULL REFERENCES parcels (code) ON DELETE CASCADE,
    event_key    TEXT    NOT NULL,
    codigo       TEXT    NOT NULL DEFAULT '',
    tipo         TEXT    NOT NULL DEFAULT '',
    kind         TEXT    NOT NULL DEFAULT '',
    description  TEXT    NOT NULL DEFAULT '',
    detail       TEXT    NOT NULL DEFAULT '',
    location     TEXT    NOT NULL DEFAULT '',
    happened_at  INTEGER NOT NULL,
    provider     TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    UNIQUE (code, event_key)
);
CREATE INDEX events_code_time ON events (code, happened_at);

-- Notifications waiting to be delivered (transactional outbox): written in
-- the same transaction as the events they announce, deleted once Telegram
-- accepted them. A crash between "accepted" and "deleted" repeats at most
-- the messages in flight.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    code             TEXT    NOT NULL DEFAULT '',
    body             TEXT    NOT NULL,            -- Telegram HTML
    created_at       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    not_before       INTEGER NOT NULL DEFAULT 0   -- unix seconds; retry_after window
);
CREATE INDEX outbox_chat ON outbox (chat_id, id);

-- Small key/value state: the bot's update offset, stored GIF file_ids,
-- the tracker's pass counter.
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Provider access tokens (the Correios token is valid 24 h), with the
-- user they belong to so a changed credential is never served an old token.
CREATE TABLE tokens (
    provider    TEXT    PRIMARY KEY,
    user        TEXT    NOT NULL,
    token       TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
);

-- Requests made to each provider per calendar month (UTC, "2006-01"),
-- for the budget and the summary line.
CREATE TABLE provider_usage (
    provider  TEXT    NOT NULL,
    month     TEXT    NOT NULL,
    requests  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, month)
);
