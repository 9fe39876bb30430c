-- AlterEnum
ALTER TYPE "PayoutStatus" ADD VALUE 'reversed';

-- AlterTable
ALTER TABLE "CallbackReceipt" ADD COLUMN     "bodyBytes" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "bodySha256" TEXT;

-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "balanceRequestedAt" TIMESTAMPTZ(3),
ADD COLUMN     "settings" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "Payout" ADD COLUMN     "approvedAt" TIMESTAMPTZ(3),
ADD COLUMN     "attentionReason" TEXT,
ADD COLUMN     "checkAttempt" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "dueAt" TIMESTAMPTZ(3),
ADD COLUMN     "leaseOwner" TEXT,
ADD COLUMN     "leaseUntil" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "UserSession" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "revokedAt" TIMESTAMPTZ(3),
    "ip" TEXT,
    "userAgent" TEXT,

    CONSTRAINT "UserSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OutcomeResolution" (
    "id" UUID NOT NULL,
    "payoutId" UUID NOT NULL,
    "outcome" "PayoutStatus" NOT NULL,
    "providerReference" TEXT,
    "note" TEXT NOT NULL,
    "proposedById" UUID NOT NULL,
    "proposedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decision" TEXT,
    "decisionNote" TEXT,
    "decidedById" UUID,
    "decidedAt" TIMESTAMPTZ(3),

    CONSTRAINT "OutcomeResolution_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WorkerHeartbeat" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed" BIGINT NOT NULL DEFAULT 0,
    "errors" BIGINT NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "lastErrorAt" TIMESTAMPTZ(3),

    CONSTRAINT "WorkerHeartbeat_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "UserSession_userId_createdAt_idx" ON "UserSession"("userId", "createdAt");

-- CreateIndex
CREATE INDEX "OutcomeResolution_payoutId_proposedAt_idx" ON "OutcomeResolution"("payoutId", "proposedAt");

-- CreateIndex
CREATE INDEX "WorkerHeartbeat_seenAt_idx" ON "WorkerHeartbeat"("seenAt");

-- CreateIndex
CREATE INDEX "CallbackReceipt_connectionId_verified_receivedAt_idx" ON "CallbackReceipt"("connectionId", "verified", "receivedAt");

-- CreateIndex
CREATE INDEX "Payout_connectionId_dueAt_idx" ON "Payout"("connectionId", "dueAt");

-- CreateIndex
CREATE INDEX "Payout_dueAt_idx" ON "Payout"("dueAt");

-- CreateIndex
CREATE INDEX "SignInAttempt_email_ip_at_idx" ON "SignInAttempt"("email", "ip", "at");

-- AddForeignKey
ALTER TABLE "UserSession" ADD CONSTRAINT "UserSession_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OutcomeResolution" ADD CONSTRAINT "OutcomeResolution_payoutId_fkey" FOREIGN KEY ("payoutId") REFERENCES "Payout"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OutcomeResolution" ADD CONSTRAINT "OutcomeResolution_proposedById_fkey" FOREIGN KEY ("proposedById") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OutcomeResolution" ADD CONSTRAINT "OutcomeResolution_decidedById_fkey" FOREIGN KEY ("decidedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Data: payouts waiting on the desk become due now, so the new dispatcher takes them up.
UPDATE "Payout" SET "dueAt" = CURRENT_TIMESTAMP
WHERE "status" IN ('approved', 'submitting', 'processing', 'provider_pending_approval', 'unknown');
UPDATE "Payout" SET "approvedAt" = "updatedAt" WHERE "status" <> 'pending_approval' AND "status" <> 'rejected';
