-- AlterEnum
ALTER TYPE "PayoutStatus" ADD VALUE 'expired';

-- DropIndex
DROP INDEX "Approval_payoutId_approverId_key";

-- AlterTable
ALTER TABLE "Approval" ADD COLUMN     "acknowledged" JSONB,
ADD COLUMN     "level" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "payload" JSONB,
ADD COLUMN     "payloadHash" TEXT,
ADD COLUMN     "round" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "voidReason" TEXT,
ADD COLUMN     "voidedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "AuditLog" ADD COLUMN     "hash" TEXT,
ADD COLUMN     "prevHash" TEXT;

-- AlterTable
ALTER TABLE "Payout" ADD COLUMN     "approvalExpiresAt" TIMESTAMPTZ(3),
ADD COLUMN     "approvalRound" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "policyVersion" INTEGER;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "totpEnabledAt" TIMESTAMPTZ(3),
ADD COLUMN     "totpGraceUsedAt" TIMESTAMPTZ(3),
ADD COLUMN     "totpRecoveryCodes" JSONB;

-- AlterTable
ALTER TABLE "UserSession" ADD COLUMN     "secondFactorAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "ApprovalGroup" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ApprovalGroup_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UserGroup" (
    "userId" UUID NOT NULL,
    "groupId" UUID NOT NULL,

    CONSTRAINT "UserGroup_pkey" PRIMARY KEY ("userId","groupId")
);

-- CreateTable
CREATE TABLE "ApprovalPolicyVersion" (
    "id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "rules" JSONB NOT NULL,
    "status" TEXT NOT NULL,
    "proposedById" UUID,
    "proposedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedById" UUID,
    "decidedAt" TIMESTAMPTZ(3),
    "decisionNote" TEXT,
    "diff" JSONB,

    CONSTRAINT "ApprovalPolicyVersion_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ApprovalGroup_name_key" ON "ApprovalGroup"("name");

-- CreateIndex
CREATE INDEX "UserGroup_groupId_idx" ON "UserGroup"("groupId");

-- CreateIndex
CREATE UNIQUE INDEX "ApprovalPolicyVersion_version_key" ON "ApprovalPolicyVersion"("version");

-- CreateIndex
CREATE INDEX "ApprovalPolicyVersion_status_idx" ON "ApprovalPolicyVersion"("status");

-- CreateIndex
CREATE UNIQUE INDEX "Approval_payoutId_approverId_round_key" ON "Approval"("payoutId", "approverId", "round");

-- CreateIndex
CREATE INDEX "Payout_approvalExpiresAt_idx" ON "Payout"("approvalExpiresAt");

-- AddForeignKey
ALTER TABLE "UserGroup" ADD CONSTRAINT "UserGroup_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UserGroup" ADD CONSTRAINT "UserGroup_groupId_fkey" FOREIGN KEY ("groupId") REFERENCES "ApprovalGroup"("id") ON DELETE CASCADE ON UPDATE CASCADE;
