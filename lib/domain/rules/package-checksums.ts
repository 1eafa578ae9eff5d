// Rule: downloaded packages must match the checksums admins registered (packageValidation).
import type { Checksum, ReportedPackage } from '../checkin.ts';
import type { Finding } from '../errors.ts';
import type { PackageValidation } from '../settings.ts';

export interface RegisteredPackage {
  packageId: string;
  name: string;
  /** The expected checksum, lower-case hex; null when the package is registered without one. */
  checksum: Checksum | null;
}

export function checkPackageChecksums(
  policy: PackageValidation,
  reported: readonly ReportedPackage[],
  registered: ReadonlyMap<string, RegisteredPackage>,
): Finding[] {
  if (policy === 'NEVER') return [];
  const findings: Finding[] = [];
  for (const { packageId, checksum } of reported) {
    const expected = registered.get(packageId)?.checksum ?? null;
    if (expected === null) {
      if (policy === 'ALWAYS') {
        findings.push({
          code: 'PACKAGE_CHECKSUM_UNAVAILABLE',
          message: `Package "${packageId}" has no registered checksum, and every package must be validated; register its checksum or remove it from the device.`,
          packageId,
        });
      }
      continue;
    }
    if (checksum === undefined || checksum.type !== expected.type) {
      findings.push({
        code: 'PACKAGE_CHECKSUM_MISSING',
        message: `The device reported no ${expected.type} checksum for package "${packageId}"; it must compute one after download.`,
        packageId,
      });
    } else if (checksum.value !== expected.value) {
      findings.push({
        code: 'PACKAGE_CHECKSUM_MISMATCH',
        message: `The ${expected.type} checksum of package "${packageId}" on the device does not match the registered one; the download is corrupt or was altered, so download it again.`,
        packageId,
      });
    }
  }
  return findings;
}
