// Both clocks pass the same contract.
import { ManualClock } from '../../lib/adapters/memory/clock.ts';
import { systemClock } from '../../lib/adapters/system-clock.ts';
import { clockContract } from '../contract/clock.contract.ts';

clockContract('systemClock', () => systemClock);
clockContract('ManualClock', () => new ManualClock('2026-11-25T18:06:03.120Z'));
