-- Balances at a year of snapshots (issue 10): the latest read per connection,
-- currency and wallet kept in BalanceLatest by a trigger, in the same
-- transaction as every snapshot write (the app's, a test's, a backfill's);
-- low-balance alert thresholds per connection and currency.

-- CreateTable
CREATE TABLE "BalanceLatest" (
    "connectionId" UUID NOT NULL,
    "currency" VARCHAR(4) NOT NULL,
    "label" TEXT NOT NULL DEFAULT '',
    "amountMinor" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "BalanceLatest_pkey" PRIMARY KEY ("connectionId","currency","label")
);

-- CreateTable
CREATE TABLE "BalanceAlert" (
    "connectionId" UUID NOT NULL,
    "currency" VARCHAR(4) NOT NULL,
    "thresholdMinor" BIGINT NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "BalanceAlert_pkey" PRIMARY KEY ("connectionId","currency")
);

-- AddForeignKey
ALTER TABLE "BalanceLatest" ADD CONSTRAINT "BalanceLatest_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BalanceAlert" ADD CONSTRAINT "BalanceAlert_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Each snapshot row moves its wallet's latest forward; an older row (a
-- backfill, a slow process) never moves it back. Rows of one read share one
-- `at`, and two rows of one wallet in one read add up, as the snapshots' sum
-- always did. Concurrent reads of one wallet serialise on its row.
CREATE FUNCTION "balance_latest_keep"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "BalanceLatest" ("connectionId", "currency", "label", "amountMinor", "at")
  VALUES (NEW."connectionId", NEW."currency", NEW."label", NEW."amountMinor", NEW."at")
  ON CONFLICT ("connectionId", "currency", "label") DO UPDATE SET
    "amountMinor" = CASE WHEN "BalanceLatest"."at" = EXCLUDED."at"
                         THEN "BalanceLatest"."amountMinor" + EXCLUDED."amountMinor"
                         ELSE EXCLUDED."amountMinor" END,
    "at" = EXCLUDED."at"
  WHERE "BalanceLatest"."at" <= EXCLUDED."at";
  RETURN NULL;
END;
$$;

CREATE TRIGGER "BalanceSnapshot_latest"
AFTER INSERT ON "BalanceSnapshot"
FOR EACH ROW EXECUTE FUNCTION "balance_latest_keep"();

-- Backfill from the snapshots already stored.
INSERT INTO "BalanceLatest" ("connectionId", "currency", "label", "amountMinor", "at")
SELECT DISTINCT ON (s."connectionId", s."currency", s."label") s."connectionId", s."currency", s."label", s."total", s."at"
FROM (
  SELECT "connectionId", "currency", "label", "at", SUM("amountMinor")::BIGINT AS "total"
  FROM "BalanceSnapshot"
  GROUP BY "connectionId", "currency", "label", "at"
) s
ORDER BY s."connectionId", s."currency", s."label", s."at" DESC;
