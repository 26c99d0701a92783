-- Tracker watermarks, so a chat never gets the same event twice.
--   parcels.last_event_id: the highest events.id stored for the code.
--   tracked.notified_event_id: the highest events.id this chat was told
--     about (0: never told anything; its first message gives the current
--     status, not the whole history). A chat lags (notified_event_id <
--     last_event_id) only while paused or just after it added a code that
--     another chat already tracks; the next pass catches it up.
ALTER TABLE parcels ADD COLUMN last_event_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tracked ADD COLUMN notified_event_id INTEGER NOT NULL DEFAULT 0;
