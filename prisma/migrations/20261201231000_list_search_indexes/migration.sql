-- The payouts list at a million rows (issue 10): every sort and filter served
-- by an index, and a search that never reads the whole table.

-- Trigram indexes for the search by recipient name and description (also in
-- PGlite, which loads the extension: server/db/pglite-extensions.ts). Trusted
-- since PostgreSQL 13: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- A phone typed in any layout is found by its digits read backwards: "0763 456 789"
-- and "+260 763 456 789" both end in 763456789, a prefix of the reversed column.
ALTER TABLE "Payout" ADD COLUMN "phoneDigitsReversed" TEXT;
UPDATE "Payout" SET "phoneDigitsReversed" = reverse(regexp_replace("recipientPhone", '[^0-9]', '', 'g')) WHERE "recipientPhone" IS NOT NULL;

-- Sort by amount (within its currency) and the amount range filter.
CREATE INDEX "Payout_currency_amountMinor_createdAt_id_idx" ON "Payout"("currency", "amountMinor", "createdAt", "id");
-- The batch filter, newest first.
CREATE INDEX "Payout_batchId_createdAt_id_idx" ON "Payout"("batchId", "createdAt" DESC, "id" DESC);
-- Search: provider reference, phone digits, recipient name, description (invoice text).
CREATE INDEX "Payout_providerReference_idx" ON "Payout"("providerReference");
CREATE INDEX "Payout_phoneDigitsReversed_idx" ON "Payout"("phoneDigitsReversed");
CREATE INDEX "Payout_recipientName_idx" ON "Payout" USING GIN ("recipientName" gin_trgm_ops);
CREATE INDEX "Payout_description_idx" ON "Payout" USING GIN ("description" gin_trgm_ops);
