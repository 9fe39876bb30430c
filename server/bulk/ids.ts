// The id of a payout made from a bulk file's row: derived, not drawn, so that
// creating the same batch again (a double click, a retried request, a resumed
// run after a crash) finds the payouts it already made instead of making
// them twice.
//
// sha256 of "<batch id>:<row>", its first 16 bytes, with the version nibble
// set to 4 and the variant bits to 10: a UUIDv4 in shape, which is what the
// desk and the providers' idempotency fields take. Safe because the batch id
// is itself a random UUIDv4 made by the database, so the 122 bits that remain
// are as unpredictable and as unlikely to meet another payout's id as a
// random UUIDv4's; sha256 spreads every (batch, row) pair over them, and no
// other batch can produce the same input string.
import { createHash } from "node:crypto";

export function batchPayoutId(batchId: string, row: number): string {
  const bytes = createHash("sha256").update(`${batchId.toLowerCase()}:${row}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
