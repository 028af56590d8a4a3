/** CTAP 2.2 §6 command bytes. */
export const CTAP2_CMD = {
  makeCredential: 0x01,
  getAssertion: 0x02,
  getInfo: 0x04,
  clientPin: 0x06,
  reset: 0x07,
  getNextAssertion: 0x08,
  bioEnrollment: 0x09,
  credentialManagement: 0x0a,
  selection: 0x0b,
  largeBlobs: 0x0c,
  config: 0x0d,
  bioEnrollmentPreview: 0x40,
  credentialManagementPreview: 0x41,
} as const;

export type Ctap2CommandName = keyof typeof CTAP2_CMD;

export const CTAP2_COMMAND_NAMES: Readonly<Record<number, Ctap2CommandName>> = Object.fromEntries(
  Object.entries(CTAP2_CMD).map(([k, v]) => [v, k as Ctap2CommandName]),
);
