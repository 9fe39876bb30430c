-- Rollups of payouts for the overview: one row per UTC day of creation
-- ("createdAt" AT TIME ZONE 'UTC', the day the payouts list's from/to filter
-- on), connection, currency and status. Kept in the same statement as each
-- status change and written with each new payout (server/services/payout-rollups.ts),
-- so reading them never counts the payouts table.

-- CreateTable
CREATE TABLE "PayoutRollup" (
    "day" DATE NOT NULL,
    "connectionId" UUID NOT NULL,
    "currency" VARCHAR(4) NOT NULL,
    "status" "PayoutStatus" NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    "amountMinor" BIGINT NOT NULL DEFAULT 0,
    "feeMinor" BIGINT NOT NULL DEFAULT 0,
    "feeCount" INTEGER NOT NULL DEFAULT 0,
    "feeOtherCount" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "PayoutRollup_pkey" PRIMARY KEY ("day","connectionId","currency","status")
);

-- CreateIndex
CREATE INDEX "PayoutRollup_status_day_idx" ON "PayoutRollup"("status", "day");

-- Approval-to-final times over a period, read from this index alone.
-- CreateIndex
CREATE INDEX "Payout_finalizedAt_approvedAt_idx" ON "Payout"("finalizedAt", "approvedAt");

-- Backfill from the payouts there are. A fee counts in feeMinor when the
-- provider reported it in the payout's own currency, in feeOtherCount when in
-- another; neither when not reported (the same rule as payout-rollups.ts).
INSERT INTO "PayoutRollup" ("day", "connectionId", "currency", "status", "count", "amountMinor", "feeMinor", "feeCount", "feeOtherCount")
SELECT ("createdAt" AT TIME ZONE 'UTC')::date, "connectionId", "currency", "status",
       count(*),
       sum("amountMinor"),
       coalesce(sum("feeMinor") FILTER (WHERE "feeMinor" IS NOT NULL AND "feeCurrency" = "currency"), 0),
       count(*) FILTER (WHERE "feeMinor" IS NOT NULL AND "feeCurrency" = "currency"),
       count(*) FILTER (WHERE "feeMinor" IS NOT NULL AND "feeCurrency" IS NOT NULL AND "feeCurrency" <> "currency")
FROM "Payout"
GROUP BY 1, 2, 3, 4;
