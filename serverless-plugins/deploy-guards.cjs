// osls plugin: refuses to package (and so to deploy) a configuration that would open a hole, with one line saying
// what to set. The values it checks are serverless.yml's `custom.deployGuards`, after osls has resolved them.
'use strict';

/** An SSM parameter path: the IAM grant in serverless.yml is built as `parameter<path>`, so it must start with '/'. */
const SSM_PARAMETER_PATH = /^\/[A-Za-z0-9_.\-/]{1,1010}$/;

/** The refusals, in the order they are reported; `undefined` when the configuration is acceptable. */
function refusalFor(guards) {
  return proxyAndDomainRefusalFor(guards) ?? hygieneRefusalFor(guards);
}

function proxyAndDomainRefusalFor(guards) {
  const header = String(guards.trustedClientCertHeader ?? '').trim();
  const secretParameter = String(guards.trustedProxySecretParameter ?? '').trim();
  const domainName = String(guards.domainName ?? '').trim();
  const certificateArn = String(guards.certificateArn ?? '').trim();
  if (domainName && !certificateArn) {
    return `domainName is set without certificateArn: request an ACM certificate for ${domainName} in the stack's region and pass its ARN with --param="certificateArn=arn:aws:acm:<region>:<account>:certificate/<id>"`;
  }
  if (!header) return undefined;
  if (!secretParameter) {
    return 'trustedClientCertHeader is set without trustedProxySecretParameter: create an SSM SecureString parameter with the proxy secret (at least 32 characters) and pass its name with --param="trustedProxySecretParameter=/tollgate/<stage>/trusted-proxy-secret"';
  }
  if (!SSM_PARAMETER_PATH.test(secretParameter)) {
    return `trustedProxySecretParameter must be an SSM parameter path starting with '/' (for example /tollgate/prod/trusted-proxy-secret), got "${secretParameter}"`;
  }
  if (!domainName) {
    return 'trustedClientCertHeader needs a custom domain (domainName, certificateArn): with the header on, the execute-api endpoint is disabled so that only the proxy reaches the API';
  }
  return undefined;
}

/** Admin tokens and the truststore: checked after the domain and the proxy, whose refusals come first. */
function hygieneRefusalFor(guards) {
  const stage = String(guards.stage ?? '').trim();
  const adminTokens = String(guards.adminTokens ?? '').trim();
  const adminTokensParameter = String(guards.adminTokensParameter ?? '').trim();
  const truststoreUri = String(guards.truststoreUri ?? '').trim();
  const truststoreVersion = String(guards.truststoreVersion ?? '').trim();
  if (adminTokens) {
    return 'adminTokens is for local mode only: put the entries in an SSM SecureString parameter and pass its name with --param="adminTokensParameter=/tollgate/<stage>/admin-tokens", so that no token hash is in the template';
  }
  if (stage === 'prod' && !adminTokensParameter) {
    return 'prod needs adminTokensParameter: create an SSM SecureString parameter holding ADMIN_TOKENS (name:role:sha256hex,…) and pass its name with --param="adminTokensParameter=/tollgate/prod/admin-tokens"';
  }
  if (adminTokensParameter && !SSM_PARAMETER_PATH.test(adminTokensParameter)) {
    return `adminTokensParameter must be an SSM parameter path starting with '/' (for example /tollgate/prod/admin-tokens), got "${adminTokensParameter}"`;
  }
  if (truststoreUri && !truststoreVersion) {
    return 'truststoreUri is set without truststoreVersion: turn on versioning on the truststore bucket and pass the object\'s version with --param="truststoreVersion=<S3 version id>" (a new version is how a changed truststore reaches API Gateway)';
  }
  return undefined;
}

class TollgateDeployGuards {
  constructor(serverless) {
    const check = () => {
      const guards = serverless.service.custom?.deployGuards ?? {};
      const refusal = refusalFor(guards);
      if (refusal) throw new serverless.classes.Error(refusal, 'TOLLGATE_DEPLOY_GUARD');
      // What the capacity model had to fit into the account's quotas (capacity.cjs): said, not refused.
      for (const note of guards.capacityNotes ?? []) process.stderr.write(`Capacity: ${note}\n`);
    };
    this.hooks = {
      'before:package:initialize': check,
      'before:deploy:function:initialize': check,
    };
  }
}

module.exports = TollgateDeployGuards;
module.exports.refusalFor = refusalFor;
