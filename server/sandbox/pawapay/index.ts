// The built-in pawaPay emulator (Merchant API v1, payouts).
export {
  createPawapayEmulator,
  type CallbackAttempt,
  type EmulatedPayout,
  type EmulatedPayoutStatus,
  type PawapayEmulator,
  type PawapayEmulatorAccount,
  type PawapayEmulatorOptions,
  type PawapayFault,
  type PawapayFaultMode,
  type PawapayFaultOperation,
} from "./emulator";
export { EMULATED_MMOS, sandboxOutcome, type EmulatedMmo, type SandboxOutcome } from "./mmo";
