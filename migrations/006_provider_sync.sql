-- When the provider last refreshed the code from the carrier (unix
-- seconds; NULL: it does not say, or reads the carrier on every request):
-- 17TRACK's latest_sync_time. The schedule asks again shortly after the
-- provider's next refresh is due, not a whole refresh after our check.
ALTER TABLE parcels ADD COLUMN synced_at INTEGER;
