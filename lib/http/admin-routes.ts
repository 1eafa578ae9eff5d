// The admin route table (API.md §3): route key, as serverless.yml names it, → handler. Builds the use cases from
// the stores it is given; the admin function authenticates and checks the role before any handler runs.
import type { UnauthenticatedAttemptStore } from '../ports/attempt-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { ConfigStore } from '../ports/config-store.ts';
import type { DecisionReader } from '../ports/decision-store.ts';
import type { DeviceStatusStore } from '../ports/device-status-store.ts';
import type { ImagingStore } from '../ports/imaging-store.ts';
import { AdminAttemptsService } from '../services/admin/attempts-service.ts';
import { AdminDevicesService } from '../services/admin/devices-service.ts';
import { AdminExemptionsService } from '../services/admin/exemptions-service.ts';
import { AdminPackagesService } from '../services/admin/packages-service.ts';
import { AdminRevocationsService } from '../services/admin/revocations-service.ts';
import { AdminPreviewService } from '../services/admin/preview-service.ts';
import { AdminSettingsService } from '../services/admin/settings-service.ts';
import { AdminTrustService } from '../services/admin/trust-service.ts';
import { AdminImagingService } from '../services/imaging/imaging-admin-service.ts';
import { packageRoutes, revocationRoutes } from './admin-catalog-routes.ts';
import { deviceRoutes } from './admin-device-routes.ts';
import { exemptionRoutes } from './admin-exemption-routes.ts';
import type { AdminRoutes } from './admin-route.ts';
import { settingsRoutes } from './admin-settings-routes.ts';
import { trustRoutes } from './admin-trust-routes.ts';
import { whoamiRoutes } from './admin-whoami-route.ts';
import { imagingAdminRoutes } from './imaging-admin-routes.ts';

export interface AdminStores {
  config: ConfigStore;
  decisions: DecisionReader;
  deviceStatus: DeviceStatusStore;
  attempts: UnauthenticatedAttemptStore;
  imaging: ImagingStore;
  clock: Clock;
}

export function makeAdminRoutes(stores: AdminStores): AdminRoutes {
  const { config, clock } = stores;
  return {
    ...settingsRoutes(new AdminSettingsService(config), new AdminPreviewService(config, stores.deviceStatus, clock), clock),
    ...trustRoutes(new AdminTrustService(config), clock),
    ...packageRoutes(new AdminPackagesService(config), clock),
    ...revocationRoutes(new AdminRevocationsService(config), clock),
    ...exemptionRoutes(new AdminExemptionsService(config, clock)),
    ...deviceRoutes(new AdminDevicesService(stores.decisions, stores.deviceStatus), new AdminAttemptsService(stores.attempts, clock)),
    ...imagingAdminRoutes(new AdminImagingService(stores.imaging)),
    ...whoamiRoutes(),
  };
}
