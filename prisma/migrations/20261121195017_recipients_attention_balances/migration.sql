-- AlterTable
ALTER TABLE "Payout" ADD COLUMN     "attentionSince" TIMESTAMPTZ(3),
ADD COLUMN     "recipientAccount" TEXT,
ADD COLUMN     "recipientDetails" JSONB,
ALTER COLUMN "currency" SET DATA TYPE VARCHAR(4),
ALTER COLUMN "recipientPhone" DROP NOT NULL;

-- CreateTable
CREATE TABLE "BalanceSnapshot" (
    "id" BIGSERIAL NOT NULL,
    "connectionId" UUID NOT NULL,
    "currency" VARCHAR(4) NOT NULL,
    "amountMinor" BIGINT NOT NULL,
    "label" TEXT NOT NULL DEFAULT '',
    "raw" JSONB,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BalanceSnapshot_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BalanceSnapshot_connectionId_currency_at_idx" ON "BalanceSnapshot"("connectionId", "currency", "at");

-- CreateIndex
CREATE INDEX "BalanceSnapshot_at_idx" ON "BalanceSnapshot"("at");

-- CreateIndex
CREATE INDEX "Payout_attentionSince_idx" ON "Payout"("attentionSince");

-- AddForeignKey
ALTER TABLE "BalanceSnapshot" ADD CONSTRAINT "BalanceSnapshot_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
