-- The rollups' sums are split over shards (a payout's shard is fixed by its
-- id; server/services/payout-rollups.ts): every status change of a
-- connection's payouts on one day moved the same two rows and held their
-- locks until its commit was on disk, so sending queued on them. What is
-- there now becomes shard 0; readers add the shards up.

-- AlterTable
ALTER TABLE "PayoutRollup" DROP CONSTRAINT "PayoutRollup_pkey",
ADD COLUMN     "shard" SMALLINT NOT NULL DEFAULT 0,
ADD CONSTRAINT "PayoutRollup_pkey" PRIMARY KEY ("day", "connectionId", "currency", "status", "shard");

-- AlterTable
ALTER TABLE "PayoutTimingRollup" DROP CONSTRAINT "PayoutTimingRollup_pkey",
ADD COLUMN     "shard" SMALLINT NOT NULL DEFAULT 0,
ADD CONSTRAINT "PayoutTimingRollup_pkey" PRIMARY KEY ("day", "bucket", "shard");
