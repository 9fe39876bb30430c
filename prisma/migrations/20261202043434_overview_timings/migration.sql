-- The overview's two timings read without the payouts table:
--  - approval-to-final times as a histogram per UTC day of finalisation
--    (PayoutTimingRollup, written as each payout is finalised, see
--    server/services/payout-rollups.ts); the index it replaces served the
--    exact percentile, which read every payout finalised in the period;
--  - the callback lag recorded on each verified callback (sinceSentMs);
--  - the longest in flight per connection, first in a (connectionId, status,
--    submittedAt) index (the in-flight counts come from the rollups).

-- DropIndex
DROP INDEX "Payout_finalizedAt_approvedAt_idx";

-- CreateIndex
CREATE INDEX "Payout_connectionId_status_submittedAt_idx" ON "Payout"("connectionId", "status", "submittedAt");

-- AlterTable
ALTER TABLE "CallbackReceipt" ADD COLUMN     "sinceSentMs" INTEGER;

-- CreateTable
CREATE TABLE "PayoutTimingRollup" (
    "day" DATE NOT NULL,
    "bucket" INTEGER NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "PayoutTimingRollup_pkey" PRIMARY KEY ("day","bucket")
);

-- Backfill the callback lag of the callbacks there are.
UPDATE "CallbackReceipt" AS cr
SET "sinceSentMs" = LEAST(GREATEST(EXTRACT(EPOCH FROM cr."receivedAt" - p."submittedAt") * 1000, 0), 2147483647)::int
FROM "Payout" AS p
WHERE p.id = cr."payoutId" AND cr.verified AND p."submittedAt" IS NOT NULL;

-- Backfill the histogram from the payouts there are: the bucket of s seconds
-- is floor(ln(1 + 10 s) / ln(1.05)), as payout-rollups.ts timingBucketSql writes it.
INSERT INTO "PayoutTimingRollup" ("day", "bucket", "count")
SELECT ("finalizedAt" AT TIME ZONE 'UTC')::date,
       floor(ln(1 + 10 * GREATEST(EXTRACT(EPOCH FROM "finalizedAt" - "approvedAt"), 0)::float8) / ln(1.05))::int,
       count(*)
FROM "Payout"
WHERE "approvedAt" IS NOT NULL AND "finalizedAt" IS NOT NULL
GROUP BY 1, 2;
