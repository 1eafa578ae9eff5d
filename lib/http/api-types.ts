// TypeScript types of the API's bodies, derived from the JSON Schemas of schemas/api.ts (the ones openapi.yaml and
// the generated validators come from): a field renamed there breaks every client that uses it here, at build time.
// For the CLI (cli/) and the console (console/); the server's own code works on the domain's types.
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type * as Schemas from '../../schemas/api.ts';

/** A body as a client sends or reads it: a field with a default (the check-in's phase) may be left out. */
type Body<S extends JSONSchema> = FromSchema<S, { keepDefaultedPropertiesOptional: true }>;

// Requests
export type CheckinRequest = Body<typeof Schemas.CheckinRequest>;
export type SettingsDocument = Body<typeof Schemas.Settings>;
export type SettingsPatch = Body<typeof Schemas.SettingsPatch>;
export type DeviceCaRequest = Body<typeof Schemas.DeviceCaRequest>;
export type ServerCertificateRequest = Body<typeof Schemas.ServerCertificateRequest>;
export type PushCertificateRequest = Body<typeof Schemas.PushCertificateRequest>;
export type PackageRequest = Body<typeof Schemas.PackageRequest>;
export type RevocationRequest = Body<typeof Schemas.RevocationRequest>;
export type ExemptionRequest = Body<typeof Schemas.ExemptionRequest>;
export type ImagingAccountRequest = Body<typeof Schemas.ImagingAccountRequest>;
export type ImagingDocument = Body<typeof Schemas.ImagingDocument>;

// Responses
export type ErrorBody = Body<typeof Schemas.ErrorBody>;
export type CheckinResponse = Body<typeof Schemas.CheckinResponse>;
export type StoredSettings = Body<typeof Schemas.StoredSettings>;
export type HistoryPage = Body<typeof Schemas.HistoryPage>;
export type ImpactPreview = Body<typeof Schemas.ImpactPreview>;
export type DeviceCaList = Body<typeof Schemas.DeviceCaList>;
export type ServerCertificate = Body<typeof Schemas.ServerCertificate>;
export type PushCertificate = Body<typeof Schemas.PushCertificate>;
export type Package = Body<typeof Schemas.Package>;
export type PackageList = Body<typeof Schemas.PackageList>;
export type Revocation = Body<typeof Schemas.Revocation>;
export type RevocationList = Body<typeof Schemas.RevocationList>;
export type Exemption = Body<typeof Schemas.Exemption>;
export type ExemptionList = Body<typeof Schemas.ExemptionList>;
export type ImagingAccount = Body<typeof Schemas.ImagingAccount>;
export type ImagingAccountList = Body<typeof Schemas.ImagingAccountList>;
export type StoredPrestage = Body<typeof Schemas.StoredPrestage>;
export type StoredAutorun = Body<typeof Schemas.StoredAutorun>;
export type PrestageList = Body<typeof Schemas.PrestageList>;
export type DevicePage = Body<typeof Schemas.DevicePage>;
export type DecisionPage = Body<typeof Schemas.DecisionPage>;
export type AttemptPage = Body<typeof Schemas.AttemptPage>;
export type Caller = Body<typeof Schemas.Caller>;
export type Health = Body<typeof Schemas.Health>;
