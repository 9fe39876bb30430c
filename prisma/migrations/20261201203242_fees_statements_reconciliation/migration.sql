-- AlterTable
ALTER TABLE "Payout" ADD COLUMN     "debitedCurrency" VARCHAR(4),
ADD COLUMN     "debitedMinor" BIGINT,
ADD COLUMN     "destinationCurrency" VARCHAR(4),
ADD COLUMN     "destinationMinor" BIGINT,
ADD COLUMN     "feeCurrency" VARCHAR(4),
ADD COLUMN     "feeMinor" BIGINT,
ADD COLUMN     "fxRate" TEXT,
ADD COLUMN     "reconciledAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "ReconciliationRun" (
    "id" UUID NOT NULL,
    "connectionId" UUID NOT NULL,
    "periodFrom" TIMESTAMPTZ(3) NOT NULL,
    "periodTo" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL,
    "method" TEXT,
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "summary" JSONB,
    "error" TEXT,
    "requestedById" UUID,
    "scheduled" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "leaseOwner" TEXT,
    "leaseUntil" TIMESTAMPTZ(3),

    CONSTRAINT "ReconciliationRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReconciliationItem" (
    "id" UUID NOT NULL,
    "runId" UUID NOT NULL,
    "connectionId" UUID NOT NULL,
    "payoutId" UUID,
    "providerReference" TEXT,
    "kind" TEXT NOT NULL,
    "desk" JSONB,
    "provider" JSONB,
    "detail" TEXT,
    "carriedFromId" UUID,
    "resolvedAt" TIMESTAMPTZ(3),
    "resolvedById" UUID,
    "resolutionNote" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ReconciliationItem_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ReconciliationRun_connectionId_createdAt_idx" ON "ReconciliationRun"("connectionId", "createdAt");

-- CreateIndex
CREATE INDEX "ReconciliationRun_status_createdAt_idx" ON "ReconciliationRun"("status", "createdAt");

-- CreateIndex
CREATE INDEX "ReconciliationItem_runId_kind_idx" ON "ReconciliationItem"("runId", "kind");

-- CreateIndex
CREATE INDEX "ReconciliationItem_connectionId_resolvedAt_idx" ON "ReconciliationItem"("connectionId", "resolvedAt");

-- CreateIndex
CREATE INDEX "ReconciliationItem_payoutId_idx" ON "ReconciliationItem"("payoutId");

-- CreateIndex
CREATE INDEX "Payout_connectionId_currency_finalizedAt_idx" ON "Payout"("connectionId", "currency", "finalizedAt");

-- CreateIndex
CREATE INDEX "Payout_finalizedAt_idx" ON "Payout"("finalizedAt");

-- AddForeignKey
ALTER TABLE "ReconciliationRun" ADD CONSTRAINT "ReconciliationRun_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReconciliationItem" ADD CONSTRAINT "ReconciliationItem_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ReconciliationRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReconciliationItem" ADD CONSTRAINT "ReconciliationItem_payoutId_fkey" FOREIGN KEY ("payoutId") REFERENCES "Payout"("id") ON DELETE SET NULL ON UPDATE CASCADE;
