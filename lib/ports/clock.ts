// The clock port: services take the time from it, so that tests pass the time in instead of faking timers.

export interface Clock {
  /** The current instant: a new Date on every call, so a caller that changes it changes nothing else. */
  now(): Date;
}
