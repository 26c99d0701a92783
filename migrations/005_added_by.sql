-- Who added a code to a chat: the Telegram user id of the person who sent
-- it, and nothing else about them (no name, no username). NULL when no
-- person can be named: codes added before this column existed, or sent
-- "as the group" by an anonymous administrator or as a channel.
-- It decides who may remove a code in a group (the person who added it,
-- or an administrator) and counts a person's codes across chats for
-- RASTREIO_MAX_CODES_PER_PERSON.
ALTER TABLE tracked ADD COLUMN added_by INTEGER;
CREATE INDEX tracked_added_by ON tracked (added_by) WHERE added_by IS NOT NULL;
