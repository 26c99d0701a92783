-- Where an event sends the parcel (transfers: "CIDADE/UF" or a foreign
-- unit's name) and the unit's street address (awaiting pickup: where to
-- go). Both '' when the provider did not say.
ALTER TABLE events ADD COLUMN destination TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN address TEXT NOT NULL DEFAULT '';
