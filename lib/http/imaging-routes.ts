// The imaging function's route table (API.md §2): route key → the read it answers with.
import type { HttpRequest } from './middleware.ts';
import type { ImagingAnswer, ImagingService } from '../services/imaging/imaging-service.ts';
import type { LoginAttempt } from '../services/imaging/login-guard.ts';

export type ImagingRoute = (request: HttpRequest, attempt: LoginAttempt) => Promise<ImagingAnswer>;

export function imagingRoutes(service: ImagingService): Record<string, ImagingRoute> {
  return {
    'GET /imaging/prestages': (_request, attempt) => service.listPrestages(attempt),
    'GET /imaging/prestages/{id}': (request, attempt) => service.getPrestage(request.pathParameters.id, attempt),
    'GET /imaging/autorun/{deviceId}': (request, attempt) => service.getAutorun(request.pathParameters.deviceId, attempt),
  };
}
