// The API Gateway (HTTP API, payload 2.0) event of an unsigned POST /checkin, for tests and benchmarks that call the
// check-in handler directly instead of over HTTP.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export interface CheckinEventFields {
  checkinId?: string;
  deviceId?: string;
  /** The device's clock; now when not given. */
  clientTime?: string;
  requestId?: string;
}

export function checkinEvent({ checkinId = 'c-1', deviceId = 'D1', clientTime = new Date().toISOString(), requestId = 'req-1' }: CheckinEventFields = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /checkin',
    rawPath: '/checkin',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { requestId, http: { method: 'POST', path: '/checkin', sourceIp: '127.0.0.1' } } as APIGatewayProxyEventV2['requestContext'],
    body: JSON.stringify({ checkinId, deviceId, clientTime, serverCertificateVerified: true }),
    isBase64Encoded: false,
  };
}
