// osls plugin: refuses to package (and so to deploy) a configuration that would open a hole, with one line saying
// what to set. The values it checks are serverless.yml's `custom.deployGuards`, after osls has resolved them.
'use strict';

/** An SSM parameter path: the IAM grant in serverless.yml is built as `parameter<path>`, so it must start with '/'. */
const SSM_PARAMETER_PATH = /^\/[A-Za-z0-9_.\-/]{1,1010}$/;

/** The refusals, in the order they are reported; `undefined` when the configuration is acceptable. */
function refusalFor(guards) {
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

class TollgateDeployGuards {
  constructor(serverless) {
    const check = () => {
      const refusal = refusalFor(serverless.service.custom?.deployGuards ?? {});
      if (refusal) throw new serverless.classes.Error(refusal, 'TOLLGATE_DEPLOY_GUARD');
    };
    this.hooks = {
      'before:package:initialize': check,
      'before:deploy:function:initialize': check,
    };
  }
}

module.exports = TollgateDeployGuards;
module.exports.refusalFor = refusalFor;
