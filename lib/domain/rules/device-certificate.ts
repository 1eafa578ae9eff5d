// Rule: with certificate-based authentication on, the request must prove it comes from the device (API.md §1
// "Device identity"). The proof itself was checked when the check-in was observed; this applies the setting.
import type { Finding } from '../errors.ts';
import type { IdentityObservation } from '../observations.ts';

export function checkDeviceIdentity(certificateBasedAuthentication: boolean, observed: IdentityObservation): Finding[] {
  return certificateBasedAuthentication ? [...observed.violations] : [];
}
