-- AlterTable
ALTER TABLE "Payout" ADD COLUMN     "batchId" UUID,
ADD COLUMN     "batchRow" INTEGER;

-- CreateTable
CREATE TABLE "Batch" (
    "id" UUID NOT NULL,
    "fileName" TEXT NOT NULL,
    "fileSha256" TEXT NOT NULL,
    "fileBytes" BYTEA NOT NULL,
    "status" TEXT NOT NULL,
    "summary" JSONB,
    "rowCount" INTEGER NOT NULL DEFAULT 0,
    "validCount" INTEGER NOT NULL DEFAULT 0,
    "invalidCount" INTEGER NOT NULL DEFAULT 0,
    "createdById" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "committedAt" TIMESTAMPTZ(3),
    "retryOfId" UUID,

    CONSTRAINT "Batch_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Batch_fileSha256_idx" ON "Batch"("fileSha256");

-- CreateIndex
CREATE INDEX "Batch_createdById_createdAt_idx" ON "Batch"("createdById", "createdAt");

-- CreateIndex
CREATE INDEX "Payout_batchId_batchRow_idx" ON "Payout"("batchId", "batchRow");

-- AddForeignKey
ALTER TABLE "Payout" ADD CONSTRAINT "Payout_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "Batch"("id") ON DELETE SET NULL ON UPDATE CASCADE;
