// Check-in decisions: the check-in records them (writer), admins read them back (reader).
import type { Finding } from '../domain/errors.ts';
import type { Decision } from '../domain/evaluate.ts';
import type { Observations } from '../domain/observations.ts';
import type { ExpiredExemption } from '../domain/exemptions.ts';
import type { Page } from './page.ts';

/** What a check-in's decision record holds (and the admin API lists). */
export interface DecisionRecord {
  checkinId: string;
  deviceId: string;
  decision: Decision;
  enforced: boolean;
  violations: Finding[];
  /** Violations the device's active exemption covered (absent in records made before exemptions existed). */
  exempted?: Finding[];
  /** A block for codes the device's exemption listed until it ran out (copied to the status, for the alert). */
  exemptionExpired?: ExpiredExemption;
  warnings: Finding[];
  /** The check-in's observations (API.md §1 "Observations"), whatever the settings. */
  facts: Observations;
  settingsVersion: number;
  evaluatedAt: string;
  statusCode: number;
}

/** The HTTP answer given to a check-in, replayed as it was on a retry. */
export interface RecordedResponse {
  statusCode: number;
  body: string;
}

export type RecordOutcome =
  | { outcome: 'RECORDED' }
  | { outcome: 'REPLAY'; response: RecordedResponse }
  | { outcome: 'CONFLICT' };

/**
 * With certificate-based authentication on, a recorded answer belongs to the certificate that proved the device's
 * identity: a retry is answered with it only when it presents the same certificate (API.md §1 "Replays are per
 * verified identity"); any other request reusing the checkinId is a CONFLICT.
 */
export interface ReplayBinding {
  /** SHA-256 of the verified device certificate. */
  fingerprint: string;
}

export interface DecisionWriter {
  /**
   * Records the response, the decision and the device's new status, unless this checkinId was seen: then nothing
   * new is written and the first answer (same device, and same certificate when `binding` is given) or a conflict
   * (another device, or another certificate) comes back. A decision older than the device's current status (a
   * check-in that finished late) is recorded but leaves the newer status. RECORDED and REPLAY come back only when
   * the answer's decision and status are stored; when that cannot be told or done, StoreUnavailableError (503): the
   * device's retry then replays whatever landed, or is judged anew.
   */
  record(decision: DecisionRecord, response: RecordedResponse, binding?: ReplayBinding): Promise<RecordOutcome>;
}

export interface DecisionReader {
  /** A device's decisions, newest first; an unknown device has none. Throws InvalidPageTokenError for a foreign token. */
  listDecisions(deviceId: string, limit: number, nextToken?: string): Promise<Page<DecisionRecord>>;
}
