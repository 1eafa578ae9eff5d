// A clock that stands still until told to move: for tests and the in-memory adapters' users.
import type { Clock } from '../../ports/clock.ts';

export class ManualClock implements Clock {
  private ms: number;

  constructor(start: Date | string | number) {
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  set(to: Date | string | number): void {
    this.ms = new Date(to).getTime();
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
