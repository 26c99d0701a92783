-- The adaptive schedule: when each code is next due (unix seconds; 0: at
-- the next pass), set after every answer from the code's state, newest
-- event, time of day and provider (internal/schedule). The index keeps
-- choosing a pass's due codes cheap at a million codes.
ALTER TABLE parcels ADD COLUMN next_due INTEGER NOT NULL DEFAULT 0;
CREATE INDEX parcels_next_due ON parcels (next_due);
