// The packaged CloudFormation template against AWS's own resource specification (@aws-cdk/aws-service-spec),
// before a deploy would find out: every resource type exists, every property exists with the type the
// specification gives it (intrinsic functions aside), and the required ones are present. Two packagings: the
// defaults, and every optional parameter (custom domain with mutual TLS, trusted proxy, alarm topic…), which adds
// resources and properties of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsServiceSpec, checkTemplateAgainstSpec, describeSpecProblem } from './aws-spec.ts';
import { type CfnTemplate, cleanupPackages, packageService } from './osls-package.ts';

const ALL_PARAMETERS = {
  domainName: 'gate.example.com',
  certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100',
  truststoreUri: 's3://example-tollgate-truststore/truststore.pem',
  truststoreVersion: 'v3QmBvLVdGpxJ0gm1Jk2kN7ZxYt0QeRr',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-alarms',
  ownershipVerificationCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
  fleetSize: '100000',
  decisionRetentionDays: '30',
  trustedClientCertHeader: 'x-amzn-mtls-clientcert',
  trustedProxySecretParameter: '/tollgate/prod/trusted-proxy-secret',
  trustedProxySecretKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  adminTokensParameter: '/tollgate/prod/admin-tokens',
  adminTokensKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab',
};

describe('the packaged template against the AWS resource specification', () => {
  const templates: Record<string, CfnTemplate> = {};

  beforeAll(async () => {
    // One at a time: each run bundles every function with esbuild, and the machines have two cores.
    // prod's one required parameter: the name of the SSM parameter holding the admin tokens.
    templates['prod, defaults'] = (await packageService('prod', { adminTokensParameter: '/tollgate/prod/admin-tokens' })).template;
    templates['prod, every parameter'] = (await packageService('prod', ALL_PARAMETERS)).template;
  }, 400_000);

  afterAll(async () => {
    await cleanupPackages();
  });

  it.each(['prod, defaults', 'prod, every parameter'])('%s: every resource, property and required property agrees', async (name) => {
    const template = templates[name];
    expect(Object.keys(template.Resources).length).toBeGreaterThan(90);
    expect(checkTemplateAgainstSpec(template, await awsServiceSpec()).map(describeSpecProblem)).toEqual([]);
  }, 60_000);
});

describe('the check itself', () => {
  it('names the resource and the property of each disagreement, and lets intrinsic functions through', async () => {
    const template: CfnTemplate = {
      Resources: {
        Gateway: { Type: 'AWS::ApiGatewayV2::Nonexistent', Properties: {} },
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] },
            MemorySize: 'a lot',
            Timeout: '29',
            Code: { S3Bucket: { Ref: 'DeploymentBucket' }, S3Key: 'fn.zip', S3Objectversion: '3' },
            Environment: { Variables: { TABLE: { Ref: 'Table' }, RETRIES: 3, NESTED: { not: 'a string' } } },
            Tags: [{ Key: 'app' }],
            Handle: 'index.handler',
          },
        },
        Queue: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: 'yes', MessageRetentionPeriod: { 'Fn::If': ['Long', 1209600, 345600] } } },
        Topic: { Type: 'AWS::SNS::Topic' },
        Table: { Type: 'AWS::DynamoDB::Table', Properties: { KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] } },
        Custom: { Type: 'Custom::Anything', Properties: { Whatever: [1, 2] } },
      },
    };
    expect(checkTemplateAgainstSpec(template, await awsServiceSpec()).map(describeSpecProblem)).toEqual([
      'Gateway (AWS::ApiGatewayV2::Nonexistent): is not a resource type of the specification',
      'Fn (AWS::Lambda::Function) MemorySize: is "a lot", the specification wants integer',
      'Fn (AWS::Lambda::Function) Code.S3Objectversion: is not a property of this type',
      'Fn (AWS::Lambda::Function) Environment.Variables.NESTED: is {"not":"a string"}, the specification wants string',
      'Fn (AWS::Lambda::Function) Tags[0].Value: is required and missing',
      'Fn (AWS::Lambda::Function) Handle: is not a property of this type',
      'Queue (AWS::SQS::Queue) FifoQueue: is "yes", the specification wants boolean',
    ]);
  }, 60_000);

  it('reports a required property that is missing', async () => {
    const template: CfnTemplate = { Resources: { Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'r' } } } };
    expect(checkTemplateAgainstSpec(template, await awsServiceSpec()).map(describeSpecProblem)).toEqual([
      'Role (AWS::IAM::Role) AssumeRolePolicyDocument: is required and missing',
    ]);
  }, 60_000);
});
