// `npm run package -- --param=domainName=…` without certificateArn would package a template whose custom domain has
// "CertificateArn": "", which only fails at deploy: osls package refuses it at once, with one line naming the fix.
import { afterAll, expect, it } from 'vitest';
import { cleanupPackages, packagingRefusal } from './osls-package.ts';

afterAll(cleanupPackages);

it('osls package refuses a custom domain without its certificate, with one line', async () => {
  expect(await packagingRefusal('prod', { domainName: 'gate.example.com' })).toEqual([
    'domainName is set without certificateArn: request an ACM certificate for gate.example.com in the stack\'s region and pass its ARN with --param="certificateArn=arn:aws:acm:<region>:<account>:certificate/<id>"',
  ]);
}, 200_000);
