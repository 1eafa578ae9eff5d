// The capacity model: serverless.yml reads the values derived here from two parameters, `fleetSize` and
// `checkinIntervalMinutes` (`${file(./capacity.cjs):checkin.rateLimit}` and so on), and from the account quotas the
// stack must fit in. docs/capacity.md shows the same arithmetic for 1k, 10k, 100k and 1M devices.
'use strict';

/** When clocks align (devices started together, schedules on the quarter hour), check-ins arrive at this multiple of the average. */
const BURST_FACTOR = 15;
/** Route throttle above the expected peak: retries after a wave of 503s and growth between deploys. */
const THROTTLE_HEADROOM = 2;
/** How long a check-in may run while DynamoDB is slow (a brown-out); the check-in function's timeout is 10 s. */
const BROWNOUT_CHECKIN_SECONDS = 8;
/** Lambda keeps this much of the account's concurrency unreserved: reservations may not take it. */
const LAMBDA_UNRESERVED_MINIMUM = 100;

/**
 * Every other function's reserved concurrency: small, but never taken by a check-in flood. alerts reads the stream
 * with one invocation per shard at a time; admin and imaging serve people and imaging tools; console and fallback
 * answer anyone (so a flood of unknown routes stays within its share); the scan and the seed run alone.
 */
const OTHER_FUNCTIONS = { imaging: 10, admin: 10, console: 5, fallback: 5, alerts: 10, certExpiryScan: 2, seedConfig: 1 };

/** Every route but POST /checkin (admin, imaging, console, health, $default): people and tools, not the fleet. */
const OTHER_ROUTES = { rateLimit: 25, burstLimit: 50 };

/** Alarms compare shares, and only over a 5-minute period with at least this many check-ins (fewer is noise). */
const MIN_CHECKINS_FOR_SHARE = 20;

function positiveNumber(name, value) {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`The parameter ${name} must be a positive number, got "${value}"`);
  return number;
}

/** The derived values for plain numbers; exported for the tests and docs/capacity.md's table. */
function capacityFor({ fleetSize, checkinIntervalMinutes, apiRateQuota, apiBurstQuota, lambdaConcurrencyQuota }) {
  const averagePerSecond = fleetSize / (checkinIntervalMinutes * 60);
  const peakPerSecond = averagePerSecond * BURST_FACTOR;
  const wantedRate = Math.ceil(peakPerSecond * THROTTLE_HEADROOM);
  // A route's throttle cannot exceed the account's: above the quota API Gateway answers 429 whatever the stage says.
  const checkinRate = Math.min(wantedRate, apiRateQuota - OTHER_ROUTES.rateLimit);
  const checkinBurst = Math.min(checkinRate, apiBurstQuota);

  const othersReserved = Object.values(OTHER_FUNCTIONS).reduce((sum, n) => sum + n, 0);
  const wantedConcurrency = Math.ceil(peakPerSecond * BROWNOUT_CHECKIN_SECONDS);
  const room = lambdaConcurrencyQuota - LAMBDA_UNRESERVED_MINIMUM - othersReserved;
  if (room < 1) {
    throw new Error(`lambdaConcurrencyQuota ${lambdaConcurrencyQuota} leaves no room for checkin after ${LAMBDA_UNRESERVED_MINIMUM} unreserved and ${othersReserved} for the other functions`);
  }
  const checkinConcurrency = Math.min(wantedConcurrency, room);

  const notes = [];
  if (checkinRate < wantedRate) {
    notes.push(`POST /checkin is throttled at ${checkinRate} requests/s where ${fleetSize} devices want ${wantedRate}: ask AWS to raise the HTTP API quota and pass it as apiRateQuota`);
  }
  if (checkinConcurrency < wantedConcurrency) {
    notes.push(`checkin may run ${checkinConcurrency} at once where a brown-out at peak wants ${wantedConcurrency}: ask AWS to raise the Lambda concurrency quota and pass it as lambdaConcurrencyQuota`);
  }
  return {
    averagePerSecond: Math.round(averagePerSecond * 10) / 10,
    peakPerSecond: Math.round(peakPerSecond * 10) / 10,
    checkin: { rateLimit: checkinRate, burstLimit: checkinBurst, reservedConcurrency: checkinConcurrency, wantedRateLimit: wantedRate, wantedConcurrency },
    otherRoutes: { ...OTHER_ROUTES },
    reservedConcurrency: { checkin: checkinConcurrency, ...OTHER_FUNCTIONS },
    alarms: { minCheckinsForShare: MIN_CHECKINS_FOR_SHARE },
    notes,
  };
}

/** osls calls this when serverless.yml reads `${file(./capacity.cjs):…}`; the parameters come from `${param:…}`. */
async function resolveCapacity({ resolveVariable }) {
  const read = async (name) => positiveNumber(name, await resolveVariable(`param:${name}`));
  return capacityFor({
    fleetSize: await read('fleetSize'),
    checkinIntervalMinutes: await read('checkinIntervalMinutes'),
    apiRateQuota: await read('apiRateQuota'),
    apiBurstQuota: await read('apiBurstQuota'),
    lambdaConcurrencyQuota: await read('lambdaConcurrencyQuota'),
  });
}

module.exports = resolveCapacity;
module.exports.capacityFor = capacityFor;
module.exports.BURST_FACTOR = BURST_FACTOR;
module.exports.THROTTLE_HEADROOM = THROTTLE_HEADROOM;
module.exports.BROWNOUT_CHECKIN_SECONDS = BROWNOUT_CHECKIN_SECONDS;
module.exports.LAMBDA_UNRESERVED_MINIMUM = LAMBDA_UNRESERVED_MINIMUM;
