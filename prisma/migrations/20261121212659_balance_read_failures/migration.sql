-- CreateTable
CREATE TABLE "BalanceReadFailure" (
    "connectionId" UUID NOT NULL,
    "message" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "BalanceReadFailure_pkey" PRIMARY KEY ("connectionId")
);

-- AddForeignKey
ALTER TABLE "BalanceReadFailure" ADD CONSTRAINT "BalanceReadFailure_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;
