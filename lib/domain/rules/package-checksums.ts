// Rule: downloaded packages must match the checksums admins registered (packageValidation), judged from each
// reported package's observed outcome.
import type { Checksum } from '../checkin.ts';
import type { Finding } from '../errors.ts';
import type { PackageObservation } from '../observations.ts';
import type { PackageValidation } from '../settings.ts';

export interface RegisteredPackage {
  packageId: string;
  name: string;
  /** The expected checksum, lower-case hex; null when the package is registered without one. */
  checksum: Checksum | null;
}

export function checkPackageChecksums(policy: PackageValidation, observed: readonly PackageObservation[]): Finding[] {
  if (policy === 'NEVER') return [];
  const findings: Finding[] = [];
  for (const { packageId, outcome, expectedChecksumType } of observed) {
    switch (outcome) {
      case 'NOT_REGISTERED':
      case 'NO_CHECKSUM_ON_RECORD':
        if (policy === 'ALWAYS') {
          findings.push({
            code: 'PACKAGE_CHECKSUM_UNAVAILABLE',
            message: `Package "${packageId}" has no registered checksum, and every package must be validated; register its checksum or remove it from the device.`,
            packageId,
          });
        }
        break;
      case 'MISSING':
      case 'WRONG_TYPE':
        findings.push({
          code: 'PACKAGE_CHECKSUM_MISSING',
          message: `The device reported no ${expectedChecksumType} checksum for package "${packageId}"; it must compute one after download.`,
          packageId,
        });
        break;
      case 'MISMATCH':
        findings.push({
          code: 'PACKAGE_CHECKSUM_MISMATCH',
          message: `The ${expectedChecksumType} checksum of package "${packageId}" on the device does not match the registered one; the download is corrupt or was altered, so download it again.`,
          packageId,
        });
        break;
      case 'MATCH':
        break;
    }
  }
  return findings;
}
