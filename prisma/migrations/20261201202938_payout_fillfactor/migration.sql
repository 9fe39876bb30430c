-- A payout row is updated several times on its way (taken, claimed, answered,
-- let go, settled). Room left on each page lets PostgreSQL keep an update that
-- touches no indexed column (the lease) on the same page without new index
-- entries (a HOT update), which the work queue does all day.
ALTER TABLE "Payout" SET (fillfactor = 70);
